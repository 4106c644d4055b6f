// The course's cluster as a lab file for integration tests (master
// 192.168.10.210, worker .220, console .208 on one LAN), bringing a lab up,
// and bounded polls.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { rows, type Sandbox } from './cli.js';

/** The lab file text; `hosts` and `tail` add YAML under spec.hosts and spec. */
export function courseLabYaml(name: string, opts: { hosts?: string; tail?: string } = {}): string {
  return `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: ${name}}
spec:
  networks:
  - {name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.1}
  nodes:
  - {name: master, roles: [control-plane], nics: [{network: lan, address: 192.168.10.210}]}
  - {name: worker, nics: [{network: lan, address: 192.168.10.220}]}
  hosts:
${opts.hosts ?? '  - {name: console, nics: [{network: lan, address: 192.168.10.208}]}\n'}${opts.tail ?? ''}`;
}

/** Polls fn until it returns a value, at most timeoutMs. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Writes the lab file into the sandbox and brings it up; the test fails if up does. */
export async function upLab(sb: Sandbox, name: string, yaml: string): Promise<void> {
  const file = path.join(sb.dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const up = await sb.nslab(['up', file]);
  expect(up.exitCode, up.stdout + up.stderr).toBe(0);
}

/** `kubectl get pod -o wide` rows once exactly n pods with the label are Running and 1/1. */
export function readyPodRows(sb: Sandbox, selector: string, n: number): Promise<string[][]> {
  return until(`${n} ready pods ${selector}`, async () => {
    const r = await sb.kubectl(['get', 'pod', '-l', selector, '-o', 'wide', '--no-headers']);
    const p = r.exitCode === 0 && r.stdout.trim() ? rows(r.stdout) : [];
    return p.length === n && p.every((c) => c[1] === '1/1' && c[2] === 'Running') ? p : undefined;
  });
}
