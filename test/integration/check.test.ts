// `nslab check`: a lab's own checks pass on the running lab, and a wrong
// check fails with a message that says what was seen and what was expected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sandbox, type Sandbox } from '../helpers/cli.js';

const LAB = 'it-check';

function labText(checks: string): string {
  return `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: ${LAB}}
spec:
  networks:
  - {name: lan, cidr: 192.168.40.0/24, gateway: 192.168.40.1}
  nodes:
  - {name: master, roles: [control-plane], nics: [{network: lan, address: 192.168.40.10}]}
  - {name: worker, nics: [{network: lan, address: 192.168.40.20}]}
  hosts:
  - {name: console, nics: [{network: lan, address: 192.168.40.30}]}
  cluster: {podNetwork: host-gw}
  checks:
${checks}`;
}

describe('nslab check', () => {
  let sb: Sandbox;
  let good: string;
  let bad: string;

  beforeAll(async () => {
    sb = sandbox();
    good = path.join(sb.dir, 'good.yaml');
    bad = path.join(sb.dir, 'bad.yaml');
    writeFileSync(
      good,
      labText(`  - name: the console reaches the worker
    from: host/console
    run: ping -c1 -W2 {{ node "worker" "ip" }}
    expect: {stdout: "1 received"}
  - name: the worker routes to the master's pods via the master
    from: node/worker
    run: ip route get 10.10.0.5
    expect: {stdout: "/via 192\\\\.168\\\\.40\\\\.10 dev eth0/"}
`),
    );
    writeFileSync(
      bad,
      labText(`  - name: the console reaches the worker
    from: host/console
    run: ping -c1 -W1 {{ node "worker" "ip" }}
    expect: {stdout: "1 received"}
  - name: a check that is wrong
    from: node/master
    run: ip -br link show cni0
    expect: {stdout: "flannel.1"}
    timeout: 1
`),
    );
    const up = await sb.nslab(['up', good]);
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
  });

  afterAll(async () => {
    await sb.nslab(['down', LAB]);
    sb.cleanup();
  });

  it('passes every check of a correct lab, one line per check, with JUnit', async () => {
    const junit = path.join(sb.dir, 'good.xml');
    const r = await sb.nslab(['check', good, '--junit', junit]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ the console reaches the worker\s+\d+ ms/);
    expect(r.stdout).toContain(`Checks of lab "${LAB}": 2 passed, 0 failed`);
    expect(readFileSync(junit, 'utf8')).toContain('tests="2" failures="0"');
  });

  it('fails on a wrong check with a readable message, in text and JSON', async () => {
    const r = await sb.nslab(['check', bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('✗ a check that is wrong');
    expect(r.stdout).toMatch(/stdout "cni0\s+\w+.*", expected to contain "flannel.1"/);
    expect(r.stdout).toContain('1 passed, 1 failed');
    const json = await sb.nslab(['check', bad, '-o', 'json']);
    const doc = JSON.parse(json.stdout);
    expect(doc.failed).toBe(1);
    expect(doc.checks[1].passed).toBe(false);
  });
});
