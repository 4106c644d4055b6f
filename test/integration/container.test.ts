// The container path: nslab started the way a container runtime starts a
// process (fresh mount, PID and network namespaces, a private /run), and
// refused with a clear message when the container is not privileged. A real
// privileged podman container is scripts/container-test.sh's, run by .ci/run;
// the host snapshot it compares is tested here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, sandbox, type Sandbox } from '../helpers/cli.js';
import { courseLabYaml } from '../helpers/course.js';
import { labNetns } from '../helpers/root-snapshot.js';

describe('in a container', () => {
  let sb: Sandbox;
  let lab: string;

  beforeAll(() => {
    sb = sandbox();
    lab = path.join(sb.dir, 'ct.yaml');
    writeFileSync(
      lab,
      courseLabYaml('it-container', {
        tail: `  checks:
  - name: the console reaches the master
    from: host/console
    run: ping -c1 -W2 {{ node "master" "ip" }}
  - name: the master routes to the worker's pods through flannel.1 (vxlan, the default pod network)
    from: node/master
    run: ip route get 10.10.1.9
    expect: {stdout: "via 10.10.1.0 dev flannel.1"}
`,
      }),
    );
  });

  afterAll(() => sb.cleanup());

  it('ups, checks and downs a lab in fresh mount, PID and network namespaces', async () => {
    const r = await execa(path.join(ROOT, 'scripts', 'in-container.sh'), [path.join(ROOT, 'scripts', 'lab-smoke.sh'), lab], {
      env: sb.env,
      reject: false,
      timeout: 60_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Lab "it-container" is up');
    expect(r.stdout).toContain('2 passed, 0 failed');
    expect(r.stdout).toContain('nothing of it is left');
    // The container's namespaces were never visible outside it.
    expect(await labNetns('nslab-it-container.')).toEqual([]);
  });

  it('says what is missing in a container that is not privileged', async () => {
    const r = await execa(
      'setpriv',
      ['--bounding-set', '-sys_admin,-net_admin', '--inh-caps', '-sys_admin,-net_admin', process.execPath, CLI, 'up', lab],
      { env: sb.env, reject: false, timeout: 20_000 },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('needs CAP_NET_ADMIN and CAP_SYS_ADMIN');
    expect(r.stderr).toContain('--privileged');
    expect(await labNetns('nslab-it-container.')).toEqual([]);
  });
});

describe('the host snapshot scripts/container-test.sh compares around a real container', () => {
  const SNAPSHOT = path.join(ROOT, 'scripts', 'container', 'host-snapshot.sh');
  const probe = 'nslab-it-snapshot-probe';
  const take = async (): Promise<string> => String((await execa(SNAPSHOT, [], { timeout: 20_000 })).stdout);

  afterAll(async () => {
    await execa('ip', ['netns', 'delete', probe], { reject: false });
  });

  it('is byte-identical when nothing changed, and differs when a namespace appears', async () => {
    const before = await take();
    for (const section of ['ip netns list', 'ip -d link show', 'iptables-save', 'nft -s list ruleset']) {
      expect(before).toContain(`== ${section}\n`);
    }
    // Nothing changed: time stamps and counters must not make it differ.
    expect(await take()).toBe(before);
    await execa('ip', ['netns', 'add', probe]);
    try {
      const during = await take();
      expect(during).not.toBe(before);
      expect(during).toContain(probe);
    } finally {
      await execa('ip', ['netns', 'delete', probe], { reject: false });
    }
    expect(await take()).toBe(before);
  });
});
