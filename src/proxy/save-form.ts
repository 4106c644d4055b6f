// What `iptables-save` prints back for the rules kube-proxy writes: the
// kernel keeps a rule's parts, not its text, so the save form differs from
// the restore input (shared/notes/kube-proxy.md §1.12): -s/-d/-i/-o/-p first
// with host addresses as /32, then the matches in input order with their
// options in the extension's own order, comments quoted unless plainly
// [A-Za-z0-9_-], MARK --or/--xor-mark as --set-xmark, REJECT with its default
// --reject-with, probabilities as the kernel's fixed point printed "%.11f".
// Covers the vocabulary of kube-proxy's iptables mode, nothing more.
import { savedProbability } from './format.js';
import { cidrString, parseIPv4CidrSloppy, parseIPv4Sloppy } from './ip.js';

/** Split a restore line into arguments, honouring double quotes (iptables-restore's rules). */
export function splitRestoreLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuotes = false;
  let have = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] ?? '';
    if (inQuotes) {
      if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
        cur += line[++i] ?? '';
      } else if (ch === '"') {
        inQuotes = false;
      } else {
        cur += ch;
      }
    } else if (ch === '"') {
      inQuotes = true;
      have = true;
    } else if (ch === ' ' || ch === '\t') {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
      have = true;
    }
  }
  if (inQuotes) throw new Error(`unterminated quote in: ${line}`);
  if (have) out.push(cur);
  return out;
}

const NO_QUOTE = /^[A-Za-z0-9_-]+$/;

/** xtables_save_string: bare when plainly [A-Za-z0-9_-]+, else double-quoted with \" \\ \' escaped. */
export function saveString(value: string): string {
  if (NO_QUOTE.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

const ZERO_ARG_OPTIONS = new Set(['--set', '--rcheck', '--update', '--remove', '--reap', '--rsource', '--rdest', '--random-fully', '--random']);
const BASIC = new Set(['-s', '--source', '-d', '--destination', '-i', '--in-interface', '-o', '--out-interface', '-p', '--protocol']);
const CTSTATE_ORDER = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];

interface Opt {
  name: string;
  value?: string;
  negated: boolean;
}

function hexNorm(v: string): string {
  const n = v.startsWith('0x') || v.startsWith('0X') ? Number.parseInt(v.slice(2), 16) : Number.parseInt(v, 10);
  return `0x${n.toString(16)}`;
}

function addrSave(v: string): string {
  if (v.includes('/')) {
    const c = parseIPv4CidrSloppy(v);
    return c ? cidrString(c) : v;
  }
  const ip = parseIPv4Sloppy(v);
  return ip ? `${ip}/32` : v;
}

function matchSave(name: string, opts: Opt[]): string {
  const get = (n: string) => opts.find((o) => o.name === n);
  const neg = (o: Opt) => (o.negated ? '! ' : '');
  const parts: string[] = ['-m', name];
  switch (name) {
    case 'comment': {
      const c = get('--comment');
      parts.push('--comment', saveString(c?.value ?? ''));
      break;
    }
    case 'mark': {
      const m = get('--mark');
      if (m) {
        const [v = '0', mask] = (m.value ?? '').split('/');
        parts.push(`${neg(m)}--mark`, mask === undefined ? hexNorm(v) : `${hexNorm(v)}/${hexNorm(mask)}`);
      }
      break;
    }
    case 'conntrack': {
      const s = get('--ctstate');
      if (s) {
        const states = (s.value ?? '').split(',');
        states.sort((a, b) => CTSTATE_ORDER.indexOf(a) - CTSTATE_ORDER.indexOf(b));
        parts.push(`${neg(s)}--ctstate`, states.join(','));
      }
      break;
    }
    case 'addrtype': {
      const src = get('--src-type');
      const dst = get('--dst-type');
      if (src) parts.push(`${neg(src)}--src-type`, src.value ?? '');
      if (dst) parts.push(`${neg(dst)}--dst-type`, dst.value ?? '');
      break;
    }
    case 'statistic': {
      const mode = get('--mode');
      const p = get('--probability');
      parts.push('--mode', mode?.value ?? 'random');
      if (p) parts.push(`${neg(p)}--probability`, savedProbability(p.value ?? '0'));
      break;
    }
    case 'recent': {
      for (const cmd of ['--set', '--rcheck', '--update', '--remove']) {
        const o = get(cmd);
        if (o) parts.push(`${neg(o)}${cmd}`);
      }
      const seconds = get('--seconds');
      if (seconds) parts.push('--seconds', seconds.value ?? '');
      if (get('--reap')) parts.push('--reap');
      parts.push('--name', get('--name')?.value ?? 'DEFAULT', '--mask', '255.255.255.255', get('--rdest') ? '--rdest' : '--rsource');
      break;
    }
    case 'nfacct': {
      // libxt_nfacct prints the name after two spaces.
      parts.push(`--nfacct-name  ${get('--nfacct-name')?.value ?? ''}`);
      break;
    }
    default:
      for (const o of opts) {
        parts.push(`${neg(o)}${o.name}`);
        if (o.value !== undefined) parts.push(o.value);
      }
  }
  return parts.join(' ');
}

function targetSave(name: string, opts: Opt[]): string {
  const get = (n: string) => opts.find((o) => o.name === n)?.value;
  switch (name) {
    case 'MARK': {
      const or = get('--or-mark');
      const xor = get('--xor-mark');
      const set = get('--set-xmark') ?? get('--set-mark');
      if (or !== undefined) return `-j MARK --set-xmark ${hexNorm(or)}/${hexNorm(or)}`;
      if (xor !== undefined) return `-j MARK --set-xmark ${hexNorm(xor)}/0x0`;
      if (set !== undefined) {
        const [v = '0', m] = set.split('/');
        return `-j MARK --set-xmark ${hexNorm(v)}/${m === undefined ? '0xffffffff' : hexNorm(m)}`;
      }
      return '-j MARK';
    }
    case 'REJECT':
      return `-j REJECT --reject-with ${get('--reject-with') ?? 'icmp-port-unreachable'}`;
    default: {
      const parts = ['-j', name];
      for (const o of opts) {
        parts.push(o.name);
        if (o.value !== undefined) parts.push(o.value);
      }
      return parts.join(' ');
    }
  }
}

/**
 * The line `iptables-save` prints for a rule given to iptables-restore as
 * "-A CHAIN …" (or "-I CHAIN [n] …", which is saved as -A in its place).
 */
export function saveFormOfRule(line: string): string {
  const t = splitRestoreLine(line);
  const op = t[0];
  const chain = t[1] ?? '';
  if (op !== '-A' && op !== '-I') throw new Error(`not a rule: ${line}`);
  let i = 2;
  if (op === '-I' && /^\d+$/.test(t[2] ?? '')) i = 3;
  const basic = new Map<string, string>();
  const matches: Array<{ name: string; opts: Opt[] }> = [];
  let target: { name: string; opts: Opt[] } | undefined;
  let current: Opt[] | undefined;
  let negate = false;
  for (; i < t.length; i++) {
    const tok = t[i] ?? '';
    if (tok === '!') {
      negate = true;
      continue;
    }
    if (BASIC.has(tok)) {
      const key = tok.startsWith('--') ? { '--source': '-s', '--destination': '-d', '--in-interface': '-i', '--out-interface': '-o', '--protocol': '-p' }[tok] ?? tok : tok;
      const v = t[++i] ?? '';
      basic.set(key, `${negate ? '! ' : ''}${key} ${key === '-s' || key === '-d' ? addrSave(v) : v}`);
      negate = false;
      continue;
    }
    if (tok === '-m' || tok === '--match') {
      const m = { name: t[++i] ?? '', opts: [] as Opt[] };
      matches.push(m);
      current = m.opts;
      negate = false;
      continue;
    }
    if (tok === '-j' || tok === '--jump') {
      target = { name: t[++i] ?? '', opts: [] };
      current = target.opts;
      negate = false;
      continue;
    }
    if (tok.startsWith('--') && current) {
      const opt: Opt = { name: tok, negated: negate };
      if (!ZERO_ARG_OPTIONS.has(tok)) opt.value = t[++i] ?? '';
      current.push(opt);
      negate = false;
      continue;
    }
    throw new Error(`cannot place "${tok}" in: ${line}`);
  }
  const out = ['-A', chain];
  for (const k of ['-s', '-d', '-i', '-o', '-p']) {
    const v = basic.get(k);
    if (v !== undefined) out.push(v);
  }
  for (const m of matches) out.push(matchSave(m.name, m.opts));
  if (target) out.push(targetSave(target.name, target.opts));
  return out.join(' ');
}

const BUILTIN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};

/**
 * The rules `iptables-save -t TABLE` prints (without its comment lines and
 * with counters as [0:0]) once the given restore inputs have been applied in
 * order to an empty table with --noflush: declared chains are flushed, -X
 * deletes, -I inserts, -A appends. Built-in chains first, user chains sorted.
 */
export function expectedSave(restores: readonly string[], table: string): string {
  const chains = new Map<string, string[]>();
  const builtins = BUILTIN_CHAINS[table] ?? [];
  for (const b of builtins) chains.set(b, []);
  for (const text of restores) {
    let inTable = false;
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) {
        inTable = line.slice(1) === table;
        continue;
      }
      if (!inTable || line === '' || line.startsWith('#')) continue;
      if (line === 'COMMIT') {
        inTable = false;
      } else if (line.startsWith(':')) {
        chains.set(line.slice(1).split(' ')[0] ?? '', []);
      } else if (line.startsWith('-X ')) {
        chains.delete(line.split(' ')[1] ?? '');
      } else if (line.startsWith('-A ') || line.startsWith('-I ')) {
        const t = splitRestoreLine(line);
        const chain = t[1] ?? '';
        const rules = chains.get(chain);
        if (!rules) throw new Error(`rule for unknown chain ${chain}: ${line}`);
        const saved = saveFormOfRule(line);
        if (line.startsWith('-A ')) rules.push(saved);
        else rules.splice(/^\d+$/.test(t[2] ?? '') ? Number(t[2]) - 1 : 0, 0, saved);
      }
    }
  }
  const userChains = [...chains.keys()].filter((c) => !builtins.includes(c)).sort();
  const lines = [`*${table}`];
  for (const b of builtins) lines.push(`:${b} ACCEPT [0:0]`);
  for (const c of userChains) lines.push(`:${c} - [0:0]`);
  for (const c of [...builtins, ...userChains]) for (const r of chains.get(c) ?? []) lines.push(r);
  lines.push('COMMIT');
  return `${lines.join('\n')}\n`;
}

/** An `iptables-save` dump without its "#" lines and with every counter as [0:0]. */
export function normalizeSave(text: string): string {
  const lines = text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'));
  return `${lines.join('\n')}\n`;
}
