import { describe, expect, it } from 'vitest';
import { afterProbe, INITIAL_PROBE_STATE, nextProbeDelay, probeSucceeded, probeUrl } from '../../../src/node/probes.js';
import { mountCommands } from '../../../src/node/sandbox.js';
import { runPlan } from '../../../src/node/images.js';

describe('readiness probes', () => {
  const probe = { httpGet: { path: '/ready', port: 8181 } };

  it('asks the pod IP at the probe port, or a named container port', () => {
    expect(probeUrl(probe, '10.10.0.2')).toBe('http://10.10.0.2:8181/ready');
    expect(probeUrl({ httpGet: { port: 'http' } }, '10.10.0.2', [{ name: 'http', containerPort: 80 }])).toBe('http://10.10.0.2:80/');
    expect(probeUrl({ httpGet: { port: 'nope' } }, '10.10.0.2', [])).toBeUndefined();
    expect(probeUrl({}, '10.10.0.2')).toBeUndefined();
  });

  it('counts 2xx and 3xx as success', () => {
    expect(['200', '302', '404', '503', '000'].map(probeSucceeded)).toEqual([true, true, false, false, false]);
  });

  it('turns ready on one success and unready after three failures in a row', () => {
    let s = afterProbe(INITIAL_PROBE_STATE, false, probe);
    expect(s.ready).toBe(false);
    s = afterProbe(s, true, probe);
    expect(s.ready).toBe(true);
    s = afterProbe(afterProbe(s, false, probe), false, probe);
    expect(s.ready).toBe(true);
    s = afterProbe(s, false, probe);
    expect(s.ready).toBe(false);
  });

  it('probes quickly until the first success, then every periodSeconds', () => {
    expect(nextProbeDelay(INITIAL_PROBE_STATE, probe)).toBe(50);
    const ready = afterProbe(INITIAL_PROBE_STATE, true, probe);
    expect(nextProbeDelay(ready, probe)).toBe(10_000);
    expect(nextProbeDelay(ready, { ...probe, periodSeconds: 3 })).toBe(3000);
  });
});

describe('pod mounts', () => {
  it('binds under /run before the pod tmpfs and moves staged binds into it after', () => {
    const cmds = mountCommands(42, [
      { kind: 'tmpfs', target: '/run', options: 'mode=755' },
      { kind: 'tmpfs', target: '/tmp', options: 'mode=1777' },
      { kind: 'bind', source: '/run/nslab/l/pods/u/api', target: '/run/secrets/nslab.io', staged: true },
      { kind: 'bind', source: '/tmp/ci/nslab', target: '/tmp/ci/nslab', staged: true },
      { kind: 'bind', source: '/run/nslab/l/pods/u/etc/hosts', target: '/etc/hosts' },
    ]).map((c) => c.slice(5).join(' '));
    expect(cmds).toEqual([
      'mount --bind /run/nslab/l/pods/u/etc/hosts /etc/hosts',
      'mount -t tmpfs -o mode=700 nslab-staging /mnt',
      'mkdir /mnt/0',
      'mount --bind /run/nslab/l/pods/u/api /mnt/0',
      'mkdir /mnt/1',
      'mount --bind /tmp/ci/nslab /mnt/1',
      'mount -t tmpfs -o mode=755 tmpfs /run',
      'mount -t tmpfs -o mode=1777 tmpfs /tmp',
      'mkdir -p /run/secrets/nslab.io',
      'mount --move /mnt/0 /run/secrets/nslab.io',
      'mkdir -p /tmp/ci/nslab',
      'mount --move /mnt/1 /tmp/ci/nslab',
      'umount /mnt',
    ]);
  });
});

describe('the coredns image', () => {
  it("runs nslab's DNS server against the lab API's socket in the pod", () => {
    const plan = runPlan({ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.3', args: ['-conf', '/etc/coredns/Corefile'] }, 'lab.local');
    expect(plan.kind).toBe('coredns');
    if (plan.kind !== 'coredns') return;
    expect(plan.argv[1]).toMatch(/dns\/main\.js$/);
    expect(plan.argv.slice(2)).toEqual(['--api-socket', '/run/secrets/nslab.io/api.sock', '--listen', '0.0.0.0:53', '--domain', 'lab.local']);
  });
});
