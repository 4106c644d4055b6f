// A lab's state folder: everything nslab writes for a lab outside its
// namespaces lives here (/run/nslab/<lab>, gone at reboot like the netns).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabSpec } from '../spec/types.js';
import type { TopologyPlan } from '../plan/topology.js';

export function stateRoot(): string {
  return process.env['NSLAB_STATE_DIR'] ?? '/run/nslab';
}

export function labStateDir(lab: string): string {
  return path.join(stateRoot(), lab);
}

export interface LabRecord {
  spec: LabSpec;
  plan: TopologyPlan;
  createdAt: string;
}

export interface ApiRecord {
  pid: number;
  url: string;
  port: number;
}

export interface KubeconfigRecord {
  /** The kubeconfig file `up` merged the lab's context into. */
  path: string;
  context: string;
}

export const files = {
  lab: 'lab.json',
  api: 'api.json',
  pid: 'daemon.pid',
  socket: 'api.sock',
  log: 'daemon.log',
  kubeconfig: 'kubeconfig',
  kubeconfigTarget: 'kubeconfig-target.json',
  pki: 'pki',
} as const;

export function statePath(lab: string, file: string): string {
  return path.join(labStateDir(lab), file);
}

export async function ensureStateDir(lab: string): Promise<string> {
  const dir = labStateDir(lab);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export async function writeJson(lab: string, file: string, value: unknown, mode = 0o600): Promise<void> {
  await writeFile(statePath(lab, file), `${JSON.stringify(value, null, 2)}\n`, { mode });
}

export async function readJson<T>(lab: string, file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(statePath(lab, file), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function listStateLabs(): Promise<string[]> {
  if (!existsSync(stateRoot())) return [];
  return (await readdir(stateRoot(), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
}

export async function removeStateDir(lab: string): Promise<void> {
  await rm(labStateDir(lab), { recursive: true, force: true });
}
