// The control-plane daemon process of one lab: `node daemon.js --lab NAME`.
// `nslab up` starts it detached and waits for one JSON line on fd 3.
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { files, labStateDir, readJson, statePath, writeJson, type ApiRecord } from '../sys/state-dir.js';
import type { LabRecord } from '../plan/lab-record.js';
import { NodeLauncher } from '../sys/launcher.js';
import { ExecaRunner } from '../sys/runner.js';
import { joinLabCgroup } from '../sys/cgroup.js';
import { isLabName } from '../labfile/lab-name.js';
import { NetnsTrackingRunner } from '../sys/netns-tracking-runner.js';
import type { LabPki } from '../api/pki.js';
import { PKI_FILES } from './pki-files.js';
import { startControlPlane } from './controlplane.js';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

async function readPki(lab: string): Promise<LabPki> {
  const dir = statePath(lab, files.pki);
  const entries = await Promise.all(
    Object.entries(PKI_FILES).map(async ([key, name]) => [key, await readFile(path.join(dir, name), 'utf8')] as const),
  );
  return Object.fromEntries(entries) as unknown as LabPki;
}

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--lab');
  const lab = flag >= 0 ? process.argv[flag + 1] : undefined;
  if (!lab) throw new Error('usage: daemon.js --lab NAME');
  if (!isLabName(lab)) {
    log(`fatal: ${JSON.stringify(lab)} is not a valid lab name`);
    process.exit(2);
  }
  // Before anything is started: everything this process starts from now on
  // is in the lab's cgroup (`up` normally put us there already), and the pid
  // file names us even if `up` was killed before it wrote it.
  if (!(await joinLabCgroup(lab))) log('no cgroup v2 to join: the lab is tracked by its namespaces only');
  await writeFile(statePath(lab, files.pid), `${process.pid}\n`, { mode: 0o600 });
  const record = await readJson<LabRecord>(lab, files.lab);
  if (!record) throw new Error(`no lab record in ${statePath(lab, files.lab)}`);

  const cp = await startControlPlane(record, await readPki(lab), {
    log,
    socketPath: statePath(lab, files.socket),
    agents: { stateDir: labStateDir(lab), runner: new NetnsTrackingRunner(new ExecaRunner()), launcher: new NodeLauncher() },
  });
  const api: ApiRecord = { pid: process.pid, port: cp.api.port, url: cp.api.url };
  await writeJson(lab, files.api, api);
  log(`lab ${lab}: API serving at ${api.url}`);

  const shutdown = (sig: string) => {
    log(`${sig}: stopping`);
    cp.stop().finally(() => process.exit(0));
    // Pods get their grace period (nginx stops in well under a second); never hang a `down`.
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const ready = createWriteStream('', { fd: 3 });
  ready.on('error', () => undefined); // `up` may have gone already
  ready.end(`${JSON.stringify(api)}\n`);
}

main().catch((e: unknown) => {
  log(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
