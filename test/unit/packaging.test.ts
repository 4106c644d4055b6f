// The ways nslab is delivered: the Vagrantfile, the Containerfile and the
// container test CI runs on every landing (scripts/container-test.sh).
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findOnPath } from '../../src/sys/preflight.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

// The Containerfile's stages, in order, each the text from its FROM line on.
function stages(text: string): string[] {
  return text.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '));
}

// `apt-get install` arguments of a stage (continuation lines joined).
function aptInstalls(stage: string): string[] {
  const joined = stage.replace(/\\\n/g, ' ');
  const m = /apt-get install ([^&]*)/.exec(joined);
  return (m?.[1] ?? '').split(/\s+/).filter((w) => w !== '' && !w.startsWith('-'));
}

describe('packaging', () => {
  // .ci/run installs vagrant, so CI always runs this; elsewhere it needs vagrant installed.
  it.skipIf(!findOnPath('vagrant'))('the Vagrantfile passes vagrant validate', async () => {
    // No hypervisor runs here (nor a Docker engine, which vagrant also counts
    // as a provider): without --ignore-provider vagrant stops at "No usable
    // default provider" before it reads the Vagrantfile.
    const r = await execa('vagrant', ['validate', '--ignore-provider'], { cwd: ROOT, reject: false, timeout: 60_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Vagrantfile validated successfully');
  });

  it('the Containerfile compiles node-pty where npm ci runs and ships no compiler', () => {
    const [build, run, ...more] = stages(read('Containerfile'));
    expect(more).toEqual([]);
    // npm ci builds node-pty from source: node-gyp needs make, g++ and python3
    // (without them: "gyp ERR! ... not found: make").
    const buildPkgs = aptInstalls(build ?? '');
    for (const pkg of ['nodejs', 'npm', 'make', 'g++', 'python3']) expect(buildPkgs).toContain(pkg);
    expect(build).toMatch(/RUN npm ci/);
    expect(build).toMatch(/npm run build/);
    expect(build).toMatch(/npm prune --omit=dev/);
    // What nslab runs, and nothing only the build needs.
    const runPkgs = aptInstalls(run ?? '');
    for (const pkg of ['nodejs', 'iproute2', 'iptables', 'nftables', 'ipvsadm', 'nginx-light', 'kubernetes-client']) {
      expect(runPkgs).toContain(pkg);
    }
    for (const pkg of ['npm', 'make', 'g++']) expect(runPkgs).not.toContain(pkg);
    expect(run).toContain('COPY --from=build /opt/nslab/node_modules');
    expect(run).toContain('CMD ["sh", "-c", "nslab up && nslab check && nslab down"]');
  });

  it('the Containerfile copies no host build output, and .containerignore keeps it out of the context', () => {
    // COPY . . would bring the host's node_modules (built for the host's Node ABI) and dist.
    expect(read('Containerfile')).not.toMatch(/^COPY \. /m);
    const ignored = read('.containerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const entry of ['**/node_modules', 'dist', '.git', 'tmp', '.vagrant']) expect(ignored).toContain(entry);
  });

  it('the container test runs the image privileged with no network, under a podman configuration of its own', () => {
    const script = read('scripts/container-test.sh');
    const runLines = script.split('\n').filter((l) => /podman\[@\]\}" run /.test(l));
    expect(runLines).toHaveLength(1);
    expect(runLines[0]).toContain('--privileged --network none');
    expect(runLines[0]).not.toContain('--network host');
    expect(script).toContain('host-snapshot.sh >"$work/before"');
    expect(script).toContain('host-snapshot.sh >"$work/after"');
    const env = read('scripts/container/env.sh');
    expect(env).toContain('export CONTAINERS_CONF=');
    expect(env).toContain('export CONTAINERS_STORAGE_CONF=');
    // Facts of the CI machine (see containers.conf's comments).
    const conf = read('scripts/container/containers.conf');
    expect(conf).toContain('default_ulimits = ["nofile=16384:16384", "nproc=32768:32768"]');
    expect(conf).toContain('runtime = "runc"');
    expect(conf).toContain('cgroup_manager = "cgroupfs"');
    expect(conf).toContain('events_logger = "file"');
    expect(conf).toContain('netns = "none"');
  });

  it('CI runs the container test besides npm test, and the example job runs the same image', () => {
    const ci = read('.ci/run');
    expect(ci).toMatch(/^\.\/scripts\/container-test\.sh\b/m);
    expect(ci).toMatch(/^npm test$/m);
    const job = read('examples/ci/github-actions.yml');
    expect(job).toContain('-f Containerfile');
    expect(job).toContain('--privileged --network none');
  });
});
