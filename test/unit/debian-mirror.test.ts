// scripts/container/debian-mirror.sh: the container test's base image comes
// from the Debian archive the machine's apt already uses (the only one it may
// reach), read from one-line and deb822 sources.
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'container', 'debian-mirror.sh');

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

// A fake root with /etc/os-release and /etc/apt sources (path -> text).
function fakeRoot(codename: string, files: Record<string, string>, quoted = false): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'nslab-mirror-'));
  dirs.push(root);
  mkdirSync(path.join(root, 'etc', 'apt', 'sources.list.d'), { recursive: true });
  writeFileSync(path.join(root, 'etc', 'os-release'), `ID=debian\nVERSION_CODENAME=${quoted ? `"${codename}"` : codename}\n`);
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(root, 'etc', 'apt', file), text);
  return root;
}

async function mirrors(root: string): Promise<{ mirror: string; security: string }> {
  const r = await execa('bash', [SCRIPT, root], { timeout: 10_000 });
  const [mirror = '', security = ''] = String(r.stdout).split('\n');
  return { mirror, security };
}

describe('debian-mirror.sh', () => {
  it("reads deb822 stanzas, skipping comments, deb-src and other vendors' repositories", async () => {
    const root = fakeRoot('bookworm', {
      'sources.list.d/nodesource.sources':
        'Types: deb\nURIs: https://deb.nodesource.example/node_20.x\nSuites: nodistro\nComponents: main\n',
      'sources.list.d/debian.sources': [
        'Types: deb-src',
        'URIs: http://src.example/debian',
        'Suites: bookworm',
        'Components: main',
        '',
        'Types: deb',
        '# http://snapshot.example/archive/debian/20250520T000000Z',
        'URIs: http://mirror.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
        'Types: deb',
        'URIs: http://mirror.example/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
      ].join('\n'),
    });
    expect(await mirrors(root)).toEqual({ mirror: 'http://mirror.example/debian', security: 'http://mirror.example/debian-security' });
  });

  it('reads one-line entries with [options] and drops a trailing slash (quoted codename)', async () => {
    const root = fakeRoot('trixie', {
      'sources.list': [
        '# deb http://old.example/debian trixie main',
        'deb https://packages.cloud.example/apt cloud-sdk-trixie main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian/ trixie main contrib',
        'deb http://security.example/debian-security trixie-security main',
      ].join('\n'),
    }, true);
    expect(await mirrors(root)).toEqual({ mirror: 'http://mirror.example/debian', security: 'http://security.example/debian-security' });
  });

  it('finds none on a machine whose apt has no archive of its own release (the caller falls back)', async () => {
    const root = fakeRoot('noble', {
      'sources.list': 'deb http://mirror.example/debian bookworm main\n',
    });
    expect(await mirrors(root)).toEqual({ mirror: '', security: '' });
  });
});
