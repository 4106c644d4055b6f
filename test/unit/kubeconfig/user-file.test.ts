// Root merging a lab's context into a user's ~/.kube/config (issue 9, hole 3):
// whatever the user plants in their own folder, root must not write, chown
// or read anything the user does not own. Runs as root; the "user" is UID
// 65534 and their home a temporary folder.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { mergeKubeconfig } from '../../../src/kubeconfig/kubeconfig.js';
import { readIfExists, writeKubeconfigFile, type KubeconfigTarget } from '../../../src/kubeconfig/target.js';

const USER = { uid: 65534, gid: 65534 };
const VICTIM_TEXT = 'root-only: SECRET-VICTIM\n';
const entry = { name: 'nslab-default', server: 'https://127.0.0.1:40000', caCertPem: 'CA', clientCertPem: 'CERT', clientKeyPem: 'KEY' };
const prod = YAML.stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'prod', cluster: { server: 'https://prod:6443' } }],
  users: [{ name: 'prod', user: { token: 't' } }],
  contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'prod' } }],
  'current-context': 'prod',
});

let base = '';
let home = '';
let kube = '';
let config = '';
let victim = '';
let target: KubeconfigTarget;

/** What `nslab up` does with the target (src/lab/up.ts mergeContext). */
async function merge(t: KubeconfigTarget): Promise<void> {
  await writeKubeconfigFile(t, mergeKubeconfig(await readIfExists(t.path), entry));
}

function userDir(p: string): void {
  mkdirSync(p, { mode: 0o755 });
  chownSync(p, USER.uid, USER.gid);
}

function userFile(p: string, text: string, mode = 0o644): void {
  writeFileSync(p, text, { mode });
  chownSync(p, USER.uid, USER.gid);
}

/** A symlink as the user would plant it (owned by them, not by root who runs the test). */
function userLink(to: string, at: string): void {
  symlinkSync(to, at);
  lchownSync(at, USER.uid, USER.gid);
}

const tempLeftovers = (dir: string) => readdirSync(dir).filter((n) => n.includes('.nslab-'));

function expectVictimIntact(): void {
  const s = statSync(victim);
  expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
  expect({ uid: s.uid, mode: s.mode & 0o777 }).toEqual({ uid: 0, mode: 0o600 });
}

function expectUserOwned(p: string, mode: number): void {
  const s = statSync(p);
  expect({ uid: s.uid, gid: s.gid, mode: s.mode & 0o777 }).toEqual({ ...USER, mode });
}

describe.skipIf(process.getuid?.() !== 0)('kubeconfig written as root into a user folder', () => {
  beforeEach(() => {
    base = mkdtempSync(path.join(os.tmpdir(), 'nslab-kc-'));
    home = path.join(base, 'home');
    kube = path.join(home, '.kube');
    config = path.join(kube, 'config');
    victim = path.join(base, 'victim');
    userDir(home);
    writeFileSync(victim, VICTIM_TEXT, { mode: 0o600 });
    target = { path: config, owner: USER };
  });

  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  it('refuses a planted ~/.kube/config symlink to a root-owned file, naming the path and the way out', async () => {
    userDir(kube);
    userLink(victim, config);
    const clear = /^refusing to (read|write) \S+\/\.kube\/config: it is a symlink to \S+\/victim, which UID 65534 does not own; remove the link or set KUBECONFIG$/;
    await expect(merge(target)).rejects.toThrow(clear);
    await expect(writeKubeconfigFile(target, 'x')).rejects.toThrow(/^refusing to write /);
    expectVictimIntact();
    expect(lstatSync(config).isSymbolicLink()).toBe(true);
    expect(tempLeftovers(kube)).toEqual([]);
  });

  it('does not follow a symlink planted at the old predictable temporary name', async () => {
    userDir(kube);
    userFile(config, prod, 0o600);
    const planted = `${config}.nslab-${process.pid}`;
    userLink(victim, planted);
    await merge(target);
    expectVictimIntact();
    expect(lstatSync(planted).isSymbolicLink()).toBe(true);
    expect(YAML.parse(readFileSync(config, 'utf8'))['current-context']).toBe('nslab-default');
    expect(tempLeftovers(kube)).toEqual([path.basename(planted)]);
  });

  it("writes through the user's own symlink to their own file and keeps the link, as kubectl does", async () => {
    userDir(kube);
    userDir(path.join(home, 'dotfiles'));
    const real = path.join(home, 'dotfiles', 'kubeconfig');
    userFile(real, prod);
    userLink('../dotfiles/kubeconfig', config);
    await merge(target);
    expect(readlinkSync(config)).toBe('../dotfiles/kubeconfig');
    const doc = YAML.parse(readFileSync(real, 'utf8'));
    expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'nslab-default']);
    expectUserOwned(real, 0o600);
    expect([...tempLeftovers(kube), ...tempLeftovers(path.dirname(real))]).toEqual([]);
  });

  it('creates ~/.kube as 0700 and the file as 0600, both owned by the user', async () => {
    await merge(target);
    expectUserOwned(kube, 0o700);
    expectUserOwned(config, 0o600);
    expect(tempLeftovers(kube)).toEqual([]);
  });

  it('hands a root-owned kubeconfig left by an earlier sudo run to the user, 0600', async () => {
    userDir(kube);
    writeFileSync(config, prod, { mode: 0o644 });
    await merge(target);
    expectUserOwned(config, 0o600);
    expect(YAML.parse(readFileSync(config, 'utf8')).contexts).toHaveLength(2);
  });

  it('refuses ~/.kube as a symlink to a folder the user does not own; nothing appears there', async () => {
    const sysDir = path.join(base, 'etc');
    mkdirSync(sysDir, { mode: 0o755 });
    userLink(sysDir, kube);
    await expect(merge(target)).rejects.toThrow(/^refusing to write \S+: it resolves through a symlink to \S+\/etc\/config, in \S+\/etc, which UID 65534 does not own; remove the link or set KUBECONFIG$/);
    expect(readdirSync(sysDir)).toEqual([]);
  });

  it('refuses a dangling ~/.kube/config symlink into a folder the user does not own', async () => {
    const sysDir = path.join(base, 'etc');
    mkdirSync(sysDir, { mode: 0o755 });
    userDir(kube);
    userLink(path.join(sysDir, 'cron-job'), config);
    await expect(merge(target)).rejects.toThrow(/^refusing to write \S+\/\.kube\/config: it is a symlink to \S+\/etc\/cron-job, in /);
    expect(readdirSync(sysDir)).toEqual([]);
  });

  it('refuses to read, through a symlink, a file the user cannot read', async () => {
    userDir(kube);
    userLink(victim, config);
    await expect(readIfExists(config)).rejects.toThrow(/^refusing to read /);
    await expect(readIfExists(target)).rejects.toThrow(/^refusing to read /);
  });

  it('refuses a FIFO at ~/.kube/config instead of blocking on it', { timeout: 5000 }, async () => {
    userDir(kube);
    execFileSync('mkfifo', [config]);
    await expect(readIfExists(config)).rejects.toThrow(/is not a regular file; remove it or set KUBECONFIG$/);
    await expect(writeKubeconfigFile(target, 'x')).rejects.toThrow(/is not a regular file/);
  });

  it('refuses a link planted after up when down writes the recorded path (no owner known)', async () => {
    userDir(kube);
    userLink(victim, config);
    await expect(readIfExists(config)).rejects.toThrow(/^refusing to read /);
    await expect(writeKubeconfigFile({ path: config }, 'x')).rejects.toThrow(/^refusing to write \S+\/\.kube\/config: it is a symlink to \S+\/victim, which UID 65534 does not own;/);
    expectVictimIntact();
  });

  it('refuses, for root, a symlink another user planted in a shared folder ($KUBECONFIG=/tmp/...)', async () => {
    const shared = path.join(base, 'shared');
    mkdirSync(shared, { mode: 0o1777 });
    chmodSync(shared, 0o1777);
    const kc = path.join(shared, 'kc');
    userLink(victim, kc);
    await expect(writeKubeconfigFile({ path: kc }, 'x')).rejects.toThrow(/owned by UID 65534, not by root; remove the link or set KUBECONFIG$/);
    expectVictimIntact();
    expect(tempLeftovers(shared)).toEqual([]);
  });

  it('refuses a symlink loop instead of spinning', async () => {
    userDir(kube);
    userLink('b', config);
    userLink('config', path.join(kube, 'b'));
    await expect(writeKubeconfigFile(target, 'x')).rejects.toThrow(/ELOOP/);
  });

  it('leaves no temporary file when the write fails after it was created', async () => {
    userDir(kube);
    userFile(config, prod, 0o600);
    // An owner chown cannot take fails after the temporary file exists.
    await expect(writeKubeconfigFile({ path: config, owner: { uid: -5, gid: -5 } }, 'x')).rejects.toThrow();
    expect(tempLeftovers(kube)).toEqual([]);
    expect(readFileSync(config, 'utf8')).toBe(prod);
  });

  it('without an owner, keeps the owner of an existing file (root writing $KUBECONFIG)', async () => {
    const kc = path.join(base, 'kc');
    userFile(kc, prod, 0o644);
    await writeKubeconfigFile({ path: kc }, mergeKubeconfig(await readIfExists(kc), entry));
    expectUserOwned(kc, 0o600);
    expect(tempLeftovers(base)).toEqual([]);
  });
});

describe('kubeconfig parse errors', () => {
  it('say where the YAML is broken without quoting the text (it may be a file the user cannot read)', () => {
    expect(() => mergeKubeconfig('kind: Config\nusers: SECRET-TOKEN: [x\n', entry)).toThrow(/^the existing kubeconfig is not valid YAML \(line 2, column \d+\); fix it or move it away$/);
  });
});
