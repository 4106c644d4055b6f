// Label and field selectors, with the syntax and printing of
// k8s.io/apimachinery/pkg/labels and /fields.
//
//   parseLabelSelector('app=web,tier!=db,env in (a,b),!legacy')
//   labelSelectorFromObject(deployment.spec.selector).toString()  // "app=ngx-dep"
//   parseFieldSelector('spec.nodeName=worker,status.phase!=Failed')

import { badRequest } from './errors.js';
import { arr, fieldValue, isRecord, str, strMap } from './types.js';

export type LabelOp = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | '>' | '<';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  /** Sorted, de-duplicated (a sets.String upstream). */
  values: string[];
}

export class LabelSelector {
  /** Requirements sorted by key, as labels.Selector.Add keeps them. */
  readonly requirements: readonly LabelRequirement[];
  /** A nil metav1.LabelSelector selects nothing (labels.Nothing()). */
  readonly nothing: boolean;

  constructor(reqs: LabelRequirement[], nothing = false) {
    this.requirements = [...reqs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.nothing = nothing;
  }

  static everything(): LabelSelector {
    return new LabelSelector([]);
  }

  get empty(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    if (this.nothing) return false;
    const l = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, l));
  }

  toString(): string {
    if (this.nothing) return '';
    return this.requirements.map(requirementString).join(',');
  }
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case '=':
    case '==':
    case 'in':
      return has && v !== undefined && r.values.includes(v);
    case '!=':
    case 'notin':
      return !has || v === undefined || !r.values.includes(v);
    case 'exists':
      return has;
    case '!':
      return !has;
    case '>':
    case '<': {
      if (!has || v === undefined || !/^-?\d+$/.test(v) || r.values.length !== 1) return false;
      const rv = r.values[0] ?? '';
      if (!/^-?\d+$/.test(rv)) return false;
      const a = BigInt(v);
      const b = BigInt(rv);
      return r.op === '>' ? a > b : a < b;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  switch (r.op) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.op} (${r.values.join(',')})`;
    default:
      return `${r.key}${r.op}${r.values.join(',')}`;
  }
}

// ---- label selector parsing ----------------------------------------------

type Tok =
  | { t: 'id'; v: string }
  | { t: 'op'; v: '=' | '==' | '!=' | '!' | '>' | '<' | '(' | ')' | ',' }
  | { t: 'in' | 'notin' | 'end' };

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOLS = ['!=', '==', '=', '!', '>', '<', '(', ')', ','] as const;

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    if (SPECIAL.has(c)) {
      const sym = SYMBOLS.find((x) => s.startsWith(x, i));
      if (!sym) throw new Error(`error expected: keyword found '${c}'`);
      out.push({ t: 'op', v: sym });
      i += sym.length;
      continue;
    }
    let j = i;
    while (j < s.length && !SPECIAL.has(s[j] ?? '') && !/\s/.test(s[j] ?? '')) j++;
    const word = s.slice(i, j);
    if (word === 'in' || word === 'notin') out.push({ t: word });
    else out.push({ t: 'id', v: word });
    i = j;
  }
  out.push({ t: 'end' });
  return out;
}

function tokText(t: Tok): string {
  if (t.t === 'id' || t.t === 'op') return t.v;
  if (t.t === 'end') return '';
  return t.t;
}

const QUALIFIED_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A label key: optional DNS-subdomain prefix and "/", then a qualified name of at most 63 chars. */
export function isValidLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (!prefix || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function isValidLabelValue(v: string): boolean {
  return v.length <= 63 && LABEL_VALUE.test(v);
}

/** Parses a labelSelector query value; throws a 400 BadRequest ApiError on bad syntax. */
export function parseLabelSelector(input: string): LabelSelector {
  try {
    return new LabelSelector(parseRequirements(input));
  } catch (e) {
    throw badRequest(`unable to parse requirement: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function parseRequirements(input: string): LabelRequirement[] {
  const toks = lex(input);
  let p = 0;
  const peek = (): Tok => toks[p] ?? { t: 'end' };
  const next = (): Tok => toks[p++] ?? { t: 'end' };
  // In value position the keywords in/notin are plain identifiers.
  const asId = (t: Tok): string | undefined => (t.t === 'id' ? t.v : t.t === 'in' || t.t === 'notin' ? t.t : undefined);

  const reqs: LabelRequirement[] = [];
  if (peek().t === 'end') return reqs;
  for (;;) {
    let t = next();
    let negate = false;
    if (t.t === 'op' && t.v === '!') {
      negate = true;
      t = next();
    }
    const key = asId(t);
    if (key === undefined) throw new Error(`found '${tokText(t)}', expected: identifier`);
    if (!isValidLabelKey(key)) throw new Error(`invalid label key "${key}"`);
    const after = peek();
    if (after.t === 'end' || (after.t === 'op' && after.v === ',')) {
      reqs.push({ key, op: negate ? '!' : 'exists', values: [] });
    } else {
      if (negate) throw new Error(`found '${tokText(after)}', expected: ',' or 'end of string'`);
      const opTok = next();
      let op: LabelOp;
      if (opTok.t === 'in' || opTok.t === 'notin') op = opTok.t;
      else if (opTok.t === 'op' && (opTok.v === '=' || opTok.v === '==' || opTok.v === '!=' || opTok.v === '>' || opTok.v === '<'))
        op = opTok.v;
      else throw new Error(`found '${tokText(opTok)}', expected: in, notin, =, ==, !=, gt, lt`);
      const values = new Set<string>();
      if (op === 'in' || op === 'notin') {
        const open = next();
        if (!(open.t === 'op' && open.v === '(')) throw new Error(`found '${tokText(open)}' expected: '('`);
        for (;;) {
          const v = next();
          const id = asId(v);
          if (id !== undefined) {
            values.add(id);
            const sep = next();
            if (sep.t === 'op' && sep.v === ')') break;
            if (!(sep.t === 'op' && sep.v === ',')) throw new Error(`found '${tokText(sep)}', expected: ',' or ')'`);
          } else if (v.t === 'op' && v.v === ')') {
            values.add('');
            break;
          } else if (v.t === 'op' && v.v === ',') {
            values.add('');
          } else {
            throw new Error(`found '${tokText(v)}', expected: ',', or identifier`);
          }
        }
      } else {
        const v = peek();
        if (v.t === 'end' || (v.t === 'op' && v.v === ',')) values.add('');
        else {
          const id = asId(next());
          if (id === undefined) throw new Error(`found '${tokText(v)}', expected: identifier`);
          values.add(id);
        }
        if ((op === '>' || op === '<') && !/^-?\d+$/.test([...values][0] ?? '')) {
          throw new Error(`for 'Gt', 'Lt' operators, the value must be an integer`);
        }
      }
      for (const v of values) {
        if (!isValidLabelValue(v)) throw new Error(`invalid label value: "${v}"`);
      }
      reqs.push({ key, op, values: [...values].sort() });
    }
    const sep = next();
    if (sep.t === 'end') return reqs;
    if (!(sep.t === 'op' && sep.v === ',')) throw new Error(`found '${tokText(sep)}', expected: ',' or 'end of string'`);
    const n = peek();
    if (!(n.t === 'id' || n.t === 'in' || n.t === 'notin' || (n.t === 'op' && n.v === '!'))) {
      throw new Error(`found '${tokText(n)}', expected: identifier after ','`);
    }
  }
}

/**
 * metav1.LabelSelectorAsSelector: {matchLabels, matchExpressions} to a selector.
 * An absent selector selects nothing; an empty one selects everything.
 */
export function labelSelectorFromObject(sel: unknown): LabelSelector {
  if (!isRecord(sel)) return new LabelSelector([], true);
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(strMap(sel['matchLabels']))) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of arr(sel['matchExpressions'])) {
    if (!isRecord(e)) continue;
    const values = arr(e['values']).map(str);
    const key = str(e['key']);
    switch (str(e['operator'])) {
      case 'In':
        reqs.push({ key, op: 'in', values: [...new Set(values)].sort() });
        break;
      case 'NotIn':
        reqs.push({ key, op: 'notin', values: [...new Set(values)].sort() });
        break;
      case 'Exists':
        reqs.push({ key, op: 'exists', values: [] });
        break;
      case 'DoesNotExist':
        reqs.push({ key, op: '!', values: [] });
        break;
    }
  }
  return new LabelSelector(reqs);
}

/** metav1.FormatLabelSelector: the selector's text, "<none>" when empty. */
export function formatLabelSelector(sel: unknown): string {
  const s = labelSelectorFromObject(sel).toString();
  return s === '' ? '<none>' : s;
}

/** labels.FormatLabels: "k=v,..." sorted by key, "<none>" when empty. */
export function formatLabels(labels: unknown): string {
  const m = strMap(labels);
  const s = Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k] ?? ''}`)
    .join(',');
  return s === '' ? '<none>' : s;
}

// ---- field selectors -------------------------------------------------------

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export class FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  static everything(): FieldSelector {
    return new FieldSelector([]);
  }

  /** `aliases` maps selector field names to object paths (events: source -> source.component). */
  matches(obj: unknown, aliases: Readonly<Record<string, string>> = {}): boolean {
    return this.requirements.every((r) => {
      const v = fieldValue(obj, aliases[r.field] ?? r.field);
      return r.op === '=' ? v === r.value : v !== r.value;
    });
  }

  /** The value a term pins with "=", if any (for metadata.name / metadata.namespace shortcuts). */
  exact(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.op === '=')?.value;
  }
}

/** fields.ParseSelector: terms joined by ",", each "k=v", "k==v" or "k!=v"; "\" escapes. */
export function parseFieldSelector(input: string): FieldSelector {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i] ?? '';
    if (c === '\\' && i + 1 < input.length) {
      cur += c + (input[i + 1] ?? '');
      i++;
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  const reqs: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const m = /^((?:[^\\=!]|\\.)*)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');
    reqs.push({ field: unescape(m[1] ?? ''), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3] ?? '') });
  }
  return new FieldSelector(reqs);
}
