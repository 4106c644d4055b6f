#!/usr/bin/env node
// The nslab command line: a thin layer over the library in src/lab.
import { Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import type { Reporter } from '../lab/progress.js';
import type { CommandRunner } from '../sys/runner.js';
import { formatMs, formatStep, listText, statusText, upSummary } from './format.js';
import { NSLAB_VERSION } from '../version.js';

// Command implementations are imported when their command runs: loading the
// certificate and YAML libraries costs a `down` or an `exec` for nothing.
const lib = {
  up: () => import('../lab/up.js'),
  down: () => import('../lab/down.js'),
  status: () => import('../lab/status.js'),
  targets: () => import('../lab/targets.js'),
  preflight: () => import('../sys/preflight.js'),
};

async function makeRunner(): Promise<CommandRunner> {
  const { ExecaRunner } = await import('../sys/runner.js');
  return new ExecaRunner();
}

const EXIT_BAD_INPUT = 2;

const consoleReporter: Reporter = {
  step: (s) => console.log(formatStep(s)),
  note: (m) => console.log(` • ${m}`),
};

const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

const program = new Command()
  .name('nslab')
  .description('Kubernetes Service networking on real Linux network namespaces')
  .version(NSLAB_VERSION)
  .enablePositionalOptions()
  .showHelpAfterError();

program
  .command('up')
  .description('build a lab from its file and start its control plane (default: labs/default.yaml)')
  .argument('[file]', 'lab file')
  .action(async (file: string | undefined) => {
    const start = performance.now();
    const [{ upLabFile }, { defaultLabFile }] = await Promise.all([lib.up(), import('../lab/paths.js')]);
    const result = await upLabFile(file ?? defaultLabFile(), { runner: await makeRunner(), reporter: consoleReporter });
    console.log(upSummary(result, performance.now() - start));
  });

program
  .command('down')
  .description("stop a lab and remove everything it made (default: the one lab that is up)")
  .argument('[lab]', 'lab name or lab file')
  .option('--all', 'take down every lab')
  .action(async (lab: string | undefined, opts: { all?: boolean }) => {
    (await lib.preflight()).requireRoot('down');
    const start = performance.now();
    const runner = await makeRunner();
    const { downAll, downLab } = await lib.down();
    if (opts.all) {
      const results = await downAll({ runner, reporter: consoleReporter });
      console.log(results.length ? `Took down ${results.map((r) => r.lab).join(', ')} in ${formatMs(performance.now() - start)}` : 'No labs were up.');
      return;
    }
    const name = await (await lib.targets()).resolveLabName(lab, runner);
    await downLab(name, { runner, reporter: consoleReporter });
    console.log(`Lab "${name}" is down (${formatMs(performance.now() - start)}); nothing of it is left.`);
  });

program
  .command('status')
  .description('show what runs in a lab')
  .argument('[lab]', 'lab name or lab file')
  .addOption(outputOption())
  .action(async (lab: string | undefined, opts: { output: string }) => {
    const runner = await makeRunner();
    const name = await (await lib.targets()).resolveLabName(lab, runner);
    const s = await (await lib.status()).labStatus(name, runner);
    if (opts.output === 'json') printJson(s);
    else console.log(statusText(s));
    if (s.state !== 'Running') process.exitCode = 1;
  });

program
  .command('list')
  .description('list the labs on this machine')
  .addOption(outputOption())
  .action(async (opts: { output: string }) => {
    const labs = await (await lib.status()).allLabStatuses(await makeRunner());
    if (opts.output === 'json') printJson(labs);
    else console.log(listText(labs));
  });

program
  .command('exec')
  .description('run a command inside a node or host, e.g. nslab exec node/worker -- ip route')
  .option('--lab <lab>', 'lab name (default: the one lab that is up)')
  .argument('<target>', 'node/NAME or host/NAME')
  .argument('<command...>', 'the command and its arguments (after --)')
  .passThroughOptions()
  .action(async (target: string, command: string[], opts: { lab?: string }) => {
    (await lib.preflight()).requireRoot('exec');
    const { resolveLabName, resolveTarget } = await lib.targets();
    const lab = await resolveLabName(opts.lab, await makeRunner());
    const t = await resolveTarget(lab, target);
    const { netnsExecArgv, runAttached } = await import('../sys/interactive.js');
    const argv = command[0] === '--' ? command.slice(1) : command;
    process.exitCode = await runAttached(netnsExecArgv(t.netns, argv));
  });

program
  .command('kubeconfig')
  .description("print the lab's kubeconfig (like kind get kubeconfig)")
  .argument('[lab]', 'lab name or lab file')
  .action(async (lab: string | undefined) => {
    const { resolveLabName, UsageError } = await lib.targets();
    const name = await resolveLabName(lab, await makeRunner());
    const { files, statePath } = await import('../lab/state.js');
    try {
      process.stdout.write(await readFile(statePath(name, files.kubeconfig), 'utf8'));
    } catch {
      throw new UsageError(`lab "${name}" has no kubeconfig: is it up? ("sudo nslab up")`);
    }
  });

function fail(e: unknown): void {
  const name = e instanceof Error ? e.name : '';
  if (name === 'LabFileError') {
    // Its message is one FILE:LINE:COL: FIELD: problem line per problem.
    console.error((e as Error).message);
    process.exitCode = EXIT_BAD_INPUT;
  } else if (name === 'UsageError') {
    console.error(`nslab: ${(e as Error).message}`);
    process.exitCode = EXIT_BAD_INPUT;
  } else if (name === 'PreflightError') {
    console.error(`nslab: ${(e as Error).message}`);
    process.exitCode = 1;
  } else {
    console.error(`nslab: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['NSLAB_DEBUG'] && e instanceof Error) console.error(e.stack);
    process.exitCode = 1;
  }
}

program.parseAsync(process.argv).catch(fail);
