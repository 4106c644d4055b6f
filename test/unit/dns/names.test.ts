// Wire names as miekg/dns unpacks and prints them (src/dns/names.ts): a
// label holding '.' or '\' is one label, printed escaped ("a\.b"), and the
// encoder turns the printed name back into the same bytes; pointers are
// bounded (126 per name), names to 255 octets; zone membership compares
// whole labels.
import { describe, expect, it } from 'vitest';
import { FormatError, isSubDomain, readName, scanName } from '../../../src/dns/names.js';
import { nameToLabels } from '../../../src/dns/wire.js';
import { matchZone } from '../../../src/dns/zone.js';

const wire = (...labels: Buffer[]): Buffer => Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('reading names', () => {
  it('escapes the bytes miekg escapes', () => {
    expect(readName(wire(b('a.b'), b('com')), 0).name).toBe('a\\.b.com.');
    expect(readName(wire(b('a\\'), b('com')), 0).name).toBe('a\\\\.com.');
    expect(readName(wire(b('a b'), b('@;()"\'')), 0).name).toBe('a\\ b.\\@\\;\\(\\)\\"\\\'.');
    expect(readName(wire(Buffer.from([0, 0x1f, 0x7f, 0xff])), 0).name).toBe('\\000\\031\\127\\255.');
    expect(readName(Buffer.from([0]), 0)).toEqual({ name: '.', end: 1 });
  });

  it('gives back every byte value through the encoder (nameToLabels)', () => {
    for (let v = 0; v < 256; v++) {
      const label = Buffer.from([0x61, v, 0x2e, v, 0x5c]);
      const name = readName(wire(label, b('x')), 0).name;
      expect(nameToLabels(name).map((l) => l.toString('hex')), `byte ${v}`).toEqual([label.toString('hex'), '78']);
    }
  });

  it('accepts 255 octets and refuses 256', () => {
    const labels = (last: number): Buffer[] => [b('a'.repeat(63)), b('b'.repeat(63)), b('c'.repeat(63)), b('d'.repeat(last))];
    expect(wire(...labels(61)).length).toBe(255);
    expect(scanName(wire(...labels(61)), 0)).toBe(255);
    expect(scanName(wire(...labels(62)), 0)).toBe(-1);
    expect(() => readName(wire(...labels(62)), 0)).toThrow(FormatError);
  });

  it('refuses label type bits 01 and 10, and names that run off the end', () => {
    expect(scanName(Buffer.from([0x40, 0]), 0)).toBe(-1);
    expect(scanName(Buffer.from([0x80, 0]), 0)).toBe(-1);
    expect(scanName(Buffer.from([3, 0x61, 0x62]), 0)).toBe(-1);
    expect(scanName(Buffer.from([1, 0x61]), 0)).toBe(-1);
    expect(scanName(Buffer.from([0xc0]), 0)).toBe(-1);
  });

  it('follows pointers forward and back, at most 126 of them, so loops end', () => {
    // Offset 0: the root; then a chain of pointers, each to the one before.
    const chain = (n: number): Buffer => {
      const buf = Buffer.alloc(1 + 2 * n);
      for (let i = 0; i < n; i++) buf.writeUInt16BE(0xc000 | (i === 0 ? 0 : 1 + 2 * (i - 1)), 1 + 2 * i);
      return buf;
    };
    expect(readName(chain(126), 1 + 2 * 125)).toEqual({ name: '.', end: 1 + 2 * 126 });
    expect(scanName(chain(127), 1 + 2 * 126)).toBe(-1);
    expect(scanName(Buffer.from([0xc0, 0x00]), 0)).toBe(-1); // to itself
    expect(scanName(Buffer.from([0xc0, 0x02, 0xc0, 0x00]), 0)).toBe(-1); // to each other
    expect(readName(Buffer.from([0xc0, 0x02, 1, 0x61, 0]), 0)).toEqual({ name: 'a.', end: 2 }); // forward
    expect(scanName(Buffer.from([0xc0, 0x09]), 0)).toBe(-1); // out of range
  });
});

describe('zone membership compares whole labels', () => {
  it('an escaped dot is no label boundary', () => {
    expect(isSubDomain('cluster.local.', 'a.cluster.local.')).toBe(true);
    expect(isSubDomain('cluster.local.', 'cluster.local.')).toBe(true);
    expect(isSubDomain('cluster.local.', 'x\\.cluster.local.')).toBe(false);
    expect(isSubDomain('cluster.local.', 'x\\\\.cluster.local.')).toBe(true);
    expect(isSubDomain('cluster.local.', 'x\\\\\\.cluster.local.')).toBe(false);
    expect(isSubDomain('cluster.local.', 'xcluster.local.')).toBe(false);
    expect(isSubDomain('.', 'anything\\.at.all.')).toBe(true);
    expect(matchZone('x\\.cluster.local.', ['cluster.local.', 'in-addr.arpa.'])).toBe('');
    expect(matchZone('4\\.3.2.1.in-addr.arpa.', ['cluster.local.', 'in-addr.arpa.'])).toBe('in-addr.arpa.');
  });
});
