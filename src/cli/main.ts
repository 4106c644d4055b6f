#!/usr/bin/env node
// The nslab command line: a thin layer over the library in src/lab.
import { Command, Option } from 'commander';
import type { Reporter } from '../lab/progress.js';
import type { CommandRunner } from '../sys/runner.js';
import { formatMs, formatStep, listText, statusText, upSummary } from './format.js';
import { NSLAB_VERSION } from '../version.js';
// The errors the CLI tells apart (by class): small modules, loaded with every command.
import { LabFileError, UsageError } from '../labfile/errors.js';
import { PreflightError } from '../sys/preflight.js';

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
    const [{ upLabFile }, { defaultLabFile }] = await Promise.all([lib.up(), import('../sys/install-paths.js')]);
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
      if (lab !== undefined) throw new UsageError(`name a lab or give --all, not both (got ${JSON.stringify(lab)} and --all)`);
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
  .description('run a command inside a node, host or pod, e.g. nslab exec node/worker -- ip route')
  .option('--lab <lab>', 'lab name (default: the one lab that is up)')
  .option('-n, --namespace <namespace>', 'namespace of a pod target', 'default')
  .option('-c, --container <container>', 'container of a pod target')
  .argument('<target>', 'node/NAME, host/NAME or pod/NAME')
  .argument('<command...>', 'the command and its arguments (after --)')
  .passThroughOptions()
  .action(async (target: string, command: string[], opts: { lab?: string; namespace: string; container?: string }) => {
    (await lib.preflight()).requireRoot('exec');
    const { resolveLabName, resolveTarget } = await lib.targets();
    const lab = await resolveLabName(opts.lab, await makeRunner());
    const argv = command[0] === '--' ? command.slice(1) : command;
    if (target.startsWith('pod/')) {
      process.exitCode = await execPodAttached(lab, opts.namespace, target.slice(4), opts.container, argv);
      return;
    }
    const t = await resolveTarget(lab, target);
    const { netnsExecArgv, runAttached } = await import('../sys/interactive.js');
    process.exitCode = await runAttached(netnsExecArgv(t.netns, argv));
  });

/** A pod's command attached to this terminal, through the lab API like kubectl exec -i [-t]. */
async function execPodAttached(lab: string, namespace: string, pod: string, container: string | undefined, command: string[]): Promise<number> {
  const [{ execInPod }, { apiSocketPath }] = await Promise.all([import('../client/exec-client.js'), import('../client/api-client.js')]);
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  if (tty) process.stdin.setRawMode(true);
  try {
    return await execInPod(
      apiSocketPath(lab),
      { namespace, pod, command, tty, ...(container ? { container } : {}) },
      {
        stdout: process.stdout,
        stderr: process.stderr,
        stdin: process.stdin,
        size: () => ({ cols: process.stdout.columns, rows: process.stdout.rows }),
        onResize: (listener) => process.stdout.on('resize', listener),
      },
    );
  } finally {
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

program
  .command('check')
  .description("run a lab file's checks against the running lab (default: labs/default.yaml)")
  .argument('[file]', 'lab file')
  .option('--junit <file>', 'also write the results as JUnit XML')
  .addOption(outputOption())
  .action(async (file: string | undefined, opts: { junit?: string; output: string }) => {
    (await lib.preflight()).requireRoot('check');
    const [{ checkLabFile }, { defaultLabFile }] = await Promise.all([import('../checks/check-lab-file.js'), import('../sys/install-paths.js')]);
    const text = opts.output !== 'json';
    const result = await checkLabFile(file ?? defaultLabFile(), file, {
      runner: await makeRunner(),
      ...(opts.junit ? { junitFile: opts.junit } : {}),
      onOutcome: (o) => {
        if (!text) return;
        console.log(`${o.passed ? ' ✓' : ' ✗'} ${o.name.padEnd(60)} ${formatMs(o.ms).padStart(8)}  (${o.target})`);
        if (!o.passed) console.log(`     ${o.command}\n     ${o.message ?? ''}${o.attempts > 1 ? ` (after ${o.attempts} attempts)` : ''}`);
      },
    });
    if (!result.hasChecks) {
      console.log(`${result.file} has no checks.`);
      return;
    }
    const { lab, passed, failed, outcomes } = result;
    if (text) console.log(`Checks of lab "${lab}": ${passed} passed, ${failed} failed`);
    else printJson({ lab, passed, failed, checks: outcomes });
    if (failed > 0) process.exitCode = 1;
  });

program
  .command('kubeconfig')
  .description("print the lab's kubeconfig (like kind get kubeconfig)")
  .argument('[lab]', 'lab name or lab file')
  .action(async (lab: string | undefined) => {
    const name = await (await lib.targets()).resolveLabName(lab, await makeRunner());
    process.stdout.write(await (await import('../lab/lab-kubeconfig.js')).labKubeconfig(name));
  });

program
  .command('node')
  .description("change a node of a running lab as its admin would: kubelet --node-ip, flannel --iface")
  .command('set')
  .description('e.g. nslab node set worker --node-ip 192.168.56.102 --iface enp0s8 (restarts that kubelet / flanneld)')
  .argument('<node>', 'node name')
  .option('--node-ip <ip>', "the kubelet's --node-ip")
  .option('--iface <nic>', "flannel's --iface")
  .option('--lab <lab>', 'lab name (default: the one lab that is up)')
  .action(async (node: string, opts: { nodeIp?: string; iface?: string; lab?: string }) => {
    (await lib.preflight()).requireRoot('node set');
    const runner = await makeRunner();
    const lab = await (await lib.targets()).resolveLabName(opts.lab, runner);
    const lines = await (await import('../lab/node-set.js')).setNode(lab, node, { ...(opts.nodeIp ? { nodeIP: opts.nodeIp } : {}), ...(opts.iface ? { iface: opts.iface } : {}) }, runner);
    for (const l of lines) console.log(l);
  });

program
  .command('doctor')
  .description("inspect a running lab's API objects and kernel state; name each problem, its evidence and the fix (exit 1 when any)")
  .argument('[lab]', 'lab name or lab file (default: the one lab that is up)')
  .addOption(outputOption())
  .action(async (lab: string | undefined, opts: { output: string }) => {
    (await lib.preflight()).requireRoot('doctor');
    const runner = await makeRunner();
    const name = await (await lib.targets()).resolveLabName(lab, runner);
    const [{ doctorLab }, { reportText }] = await Promise.all([import('../doctor/gather.js'), import('../doctor/findings.js')]);
    const report = await doctorLab(name, runner);
    if (opts.output === 'json') printJson(report);
    else console.log(reportText(report));
    if (!report.healthy) process.exitCode = 1;
  });

program
  .command('graph')
  .description('draw the lab: segments, machines, pods, Services (Mermaid, DOT or SVG)')
  .argument('[lab]', 'lab name or lab file (default: the one lab that is up)')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['mermaid', 'dot', 'svg']).default('mermaid'))
  .option('--from-file <file>', 'draw a lab file that is not up (machines and networks only)')
  .action(async (lab: string | undefined, opts: { format: string; fromFile?: string }) => {
    const [load, { renderMermaid }, { renderDot }] = await Promise.all([import('../graph/load.js'), import('../graph/mermaid.js'), import('../graph/dot.js')]);
    const runner = await makeRunner();
    const model = opts.fromFile ? await load.graphOfFile(opts.fromFile) : await load.graphOfLab(await (await lib.targets()).resolveLabName(lab, runner));
    if (opts.format === 'mermaid') process.stdout.write(renderMermaid(model));
    else if (opts.format === 'dot') process.stdout.write(renderDot(model));
    else process.stdout.write(await (await import('../graph/svg.js')).dotToSvg(renderDot(model), runner));
  });

program
  .command('capture')
  .description('tcpdump inside a node, host, pod or segment, e.g. nslab capture node/worker:eth0 tcp port 80')
  .argument('<target>', 'node/NAME, host/NAME, pod/NAME, pod/LABEL=VALUE or segment/NETWORK, then :IFACE if not the default')
  .argument('[filter...]', 'a tcpdump filter expression')
  .option('--lab <lab>', 'lab name (default: the one lab that is up)')
  .option('-n, --namespace <namespace>', 'namespace of a pod target', 'default')
  .option('-c, --count <n>', 'stop after this many packets', (v: string) => Number(v))
  .option('--seconds <s>', 'stop after this many seconds', (v: string) => Number(v))
  .option('-w, --write <file>', 'write a pcap file (- for stdout, e.g. | wireshark -k -i -)')
  .action(async (target: string, filter: string[], opts: { lab?: string; namespace: string; count?: number; seconds?: number; write?: string }) => {
    (await lib.preflight()).requireRoot('capture');
    const runner = await makeRunner();
    const lab = await (await lib.targets()).resolveLabName(opts.lab, runner);
    const [{ capture }, { LabApiClient }, { NodeLauncher }, { files, readJson }] = await Promise.all([
      import('../trace/capture.js'),
      import('../client/api-client.js'),
      import('../sys/launcher.js'),
      import('../sys/state-dir.js'),
    ]);
    const record = await readJson<import('../plan/lab-record.js').LabRecord>(lab, files.lab);
    if (!record) throw new UsageError(`lab "${lab}" is not up: start it with "sudo nslab up"`);
    const { count, seconds, write } = opts;
    const r = await capture(
      {
        lab, record, api: LabApiClient.forLab(lab), target, namespace: opts.namespace, filter,
        ...(count !== undefined ? { count } : {}), ...(seconds !== undefined ? { seconds } : {}), ...(write !== undefined ? { write } : {}),
        onStart: (t, iface) => console.error(`capturing on ${t.kind}/${t.name} ${iface} (${t.netns}); stops with Ctrl-C${count ? `, after ${count} packets` : ''}${seconds ? `, after ${seconds} s` : ''}, or with the lab`),
      },
      new NodeLauncher(),
    );
    process.exitCode = r.timedOut ? 0 : (r.exit.code ?? 1);
  });

program
  .command('trace')
  .description('send one probe and show where it went, rule by rule, e.g. nslab trace pod/app=web svc/web:80')
  .argument('<from>', 'pod/NAME, pod/LABEL=VALUE, node/NAME or host/NAME')
  .argument('<to>', 'svc/NAME[:PORT], node/NAME:PORT (NodePort) or IP[:PORT]')
  .option('--lab <lab>', 'lab name (default: the one lab that is up)')
  .option('-n, --namespace <namespace>', 'namespace of pod and svc names', 'default')
  .addOption(new Option('--proto <proto>', 'probe protocol').choices(['tcp', 'udp', 'icmp']).default('tcp'))
  .addOption(outputOption())
  .action(async (from: string, to: string, opts: { lab?: string; namespace: string; proto: 'tcp' | 'udp' | 'icmp'; output: string }) => {
    (await lib.preflight()).requireRoot('trace');
    const runner = await makeRunner();
    const lab = await (await lib.targets()).resolveLabName(opts.lab, runner);
    const [{ runTrace }, { traceText }, { LabApiClient }, { NodeLauncher }, { files, readJson }] = await Promise.all([
      import('../trace/run-trace.js'),
      import('../trace/format.js'),
      import('../client/api-client.js'),
      import('../sys/launcher.js'),
      import('../sys/state-dir.js'),
    ]);
    const record = await readJson<import('../plan/lab-record.js').LabRecord>(lab, files.lab);
    if (!record) throw new UsageError(`lab "${lab}" is not up: start it with "sudo nslab up"`);
    const report = await runTrace({ lab, record, api: LabApiClient.forLab(lab), from, to, proto: opts.proto, namespace: opts.namespace }, runner, new NodeLauncher());
    if (opts.output === 'json') printJson(report);
    else process.stdout.write(traceText(report));
    if (report.leftover.length) process.exitCode = 1;
  });

function fail(e: unknown): void {
  if (e instanceof LabFileError) {
    // Its message is one FILE:LINE:COL: FIELD: problem line per problem.
    console.error(e.message);
    process.exitCode = EXIT_BAD_INPUT;
  } else if (e instanceof UsageError) {
    console.error(`nslab: ${e.message}`);
    process.exitCode = EXIT_BAD_INPUT;
  } else if (e instanceof PreflightError) {
    console.error(`nslab: ${e.message}`);
    process.exitCode = 1;
  } else {
    console.error(`nslab: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['NSLAB_DEBUG'] && e instanceof Error) console.error(e.stack);
    process.exitCode = 1;
  }
}

program.parseAsync(process.argv).catch(fail);
