import { describe, expect, it } from 'vitest';
import {
  closest,
  editDistance,
  ifnameProblem,
  isDnsLabel,
  isDnsSubdomain,
  isLabelValue,
  labelKeyProblem,
  listWords,
} from '../../../src/labfile/names.js';
import { cidrsOverlap, parseCidr, specialRangeOverlap } from '../../../src/labfile/ipv4.js';

describe('name rules', () => {
  it('RFC 1123 labels and subdomains', () => {
    expect(['a', 'ngx-svc', '0abc', 'a'.repeat(63)].every(isDnsLabel)).toBe(true);
    expect(['', 'A', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64)].some(isDnsLabel)).toBe(false);
    expect(isDnsSubdomain('cluster.local')).toBe(true);
    expect(isDnsSubdomain('cluster..local')).toBe(false);
  });

  it('label keys and values as Kubernetes allows', () => {
    expect(labelKeyProblem('disk')).toBeUndefined();
    expect(labelKeyProblem('node-role.kubernetes.io/control-plane')).toBeUndefined();
    expect(labelKeyProblem('Disk_Type.x')).toBeUndefined();
    expect(labelKeyProblem('/disk')).toContain('prefix');
    expect(labelKeyProblem('Example.com/disk')).toContain('prefix');
    expect(labelKeyProblem('example.com/')).toContain('name part');
    expect(labelKeyProblem('a'.repeat(64))).toContain('name part');
    expect(['', 'ssd', 'A-1_b.c'].every(isLabelValue)).toBe(true);
    expect(['-a', 'a-', 'a b', 'v'.repeat(64)].some(isLabelValue)).toBe(false);
  });

  it('interface names as the kernel allows', () => {
    expect(ifnameProblem('eth0')).toBeUndefined();
    expect(ifnameProblem('flannel.1')).toBeUndefined();
    expect(ifnameProblem('a'.repeat(15))).toBeUndefined();
    expect(ifnameProblem('a'.repeat(16))).toContain('1-15 bytes');
    // Bytes, not characters: 8 two-byte characters are 16 bytes.
    expect(ifnameProblem('é'.repeat(8))).toContain('1-15 bytes');
    expect(ifnameProblem('..')).toContain('cannot be ".."');
    expect(ifnameProblem('.')).toContain('cannot be "."');
    expect(ifnameProblem('a\tb')).toContain('not \\u0009');
  });

  // Hole 6: these reached `ip -batch` unquoted, where '#' starts a comment,
  // '\' joins lines and quotes group words.
  it('interface names hold only letters, digits, _, . and - (what ip -batch reads as one word)', () => {
    expect(ifnameProblem('my_nic-1.2')).toBeUndefined();
    for (const [name, shown] of [
      ['eth#1', "'#'"],
      ['eth\\1', "'\\'"],
      ['eth"1', `'"'`],
      ["eth'1", `'\''`],
      ['eth 1', 'a space'],
      ['eth\u00001', '\\u0000'],
      ['eth\n1', '\\u000a'],
      ['eth\u007f', '\\u007f'],
      ['é', '\\u00e9'],
      ['eth/0', "'/'"],
      ['eth0:1', "':'"],
    ] as const) {
      expect(ifnameProblem(name), name).toBe(`may contain only letters, digits, '_', '.' and '-' (e.g. eth1 or enp0s8), not ${shown}`);
    }
    // Multibyte text is refused whatever its length; 5 three-byte characters are 15 bytes.
    expect(ifnameProblem('網卡網卡網')).toContain('not \\u7db2');
    expect(ifnameProblem('-eth0')).toContain("cannot start with '-'");
  });
});

describe('suggestions', () => {
  it('count swaps of neighbours as one edit and ignore case', () => {
    expect(editDistance('hots', 'host')).toBe(1);
    expect(editDistance('nodeIp', 'nodeIP')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggest only close candidates', () => {
    expect(closest('nicks', ['name', 'nics', 'roles'])).toBe('nics');
    expect(closest('flavour', ['name', 'nics', 'roles'])).toBeUndefined();
    expect(closest('ab', ['xy'])).toBeUndefined();
  });

  it('list words', () => {
    expect(listWords([])).toBe('');
    expect(listWords(['a'])).toBe('a');
    expect(listWords(['a', 'b', 'c'])).toBe('a, b and c');
    expect(listWords(['a', 'b'], 'or')).toBe('a or b');
  });
});

describe('strict IPv4 CIDRs', () => {
  it('parse dotted quads with a prefix only', () => {
    expect(parseCidr('10.10.0.0/16')).toEqual({ ok: true, cidr: { base: 0x0a0a0000, prefix: 16 } });
    expect(parseCidr('0.0.0.0/0')).toEqual({ ok: true, cidr: { base: 0, prefix: 0 } });
    for (const bad of ['10.10.0.0', '10.10/16', '10.10.0.0/33', '10.10.0.0/016', '010.10.0.0/16', ' 10.10.0.0/16']) {
      expect(parseCidr(bad), bad).toEqual({ ok: false });
    }
  });

  it('give the intended network of a CIDR with host bits', () => {
    expect(parseCidr('192.168.10.5/24')).toEqual({ ok: false, hostBitsOf: { base: 0xc0a80a00, prefix: 24 } });
  });

  it('find overlaps and special ranges', () => {
    const ok = (t: string) => {
      const r = parseCidr(t);
      if (!r.ok) throw new Error(t);
      return r.cidr;
    };
    expect(cidrsOverlap(ok('10.96.0.0/12'), ok('10.100.0.0/16'))).toBe(true);
    expect(cidrsOverlap(ok('10.96.0.0/12'), ok('10.112.0.0/16'))).toBe(false);
    expect(specialRangeOverlap(ok('127.0.0.0/16'))).toContain('loopback');
    expect(specialRangeOverlap(ok('0.0.0.0/0'))).toBeDefined();
    expect(specialRangeOverlap(ok('224.0.0.0/24'))).toContain('multicast');
    expect(specialRangeOverlap(ok('192.168.0.0/16'))).toBeUndefined();
  });
});
