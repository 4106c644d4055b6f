// A small schema walker over yaml's node tree. It reads typed values out of
// maps and lists, remembers where each came from (line, column, dotted
// field path) and collects a problem for every value of the wrong shape
// instead of stopping at the first.
import { isAlias, isMap, isScalar, isSeq, visit, type Alias, type Document, type LineCounter, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import type { SpecProblem } from './types.js';
import { didYouMean } from './names.js';

/** Where a value is: 1-based line and column, and its dotted field path. */
export interface At {
  line: number;
  col: number;
  field: string;
}

export interface Val<T> {
  value: T;
  at: At;
  /** A default, not written in the file; `at` is then the map it would belong to. */
  implicit?: boolean;
}

type Resolved = Scalar | YAMLMap | YAMLSeq;

/** A value present in the file (neither absent nor null). */
export interface Slot {
  node: Resolved;
  at: At;
}

export function childPath(path: string, key: string): string {
  if (!path) return key;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function itemPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

export function implicit<T>(value: T, at: At): Val<T> {
  return { value, at, implicit: true };
}

const MAP_HINT = 'must be a mapping of fields (key: value lines, or {key: value})';
const LIST_HINT = 'must be a list ("- item" lines, or [a, b])';

export class Walker {
  readonly problems: SpecProblem[] = [];

  /** What each alias stands for, found in one pass over the document. */
  private readonly aliases = new Map<Alias, unknown>();

  constructor(
    readonly file: string,
    doc: Document,
    private readonly lines: LineCounter,
  ) {
    // yaml's Alias.resolve walks the document from the top on every call, so
    // reading took time quadratic in the number of aliases (10,000 took about
    // 20 s). One pass gives each alias what Alias.resolve would: the last
    // node anchored with its name before it.
    const anchors = new Map<string, unknown>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) this.aliases.set(node, anchors.get(node.source));
        else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? this.aliases.get(node) : node;
  }

  atOffset(offset: number, field: string): At {
    const { line, col } = this.lines.linePos(offset);
    return { line, col, field };
  }

  atNode(node: unknown, field: string): At {
    const range = isScalar(node) || isMap(node) || isSeq(node) || isAlias(node) ? node.range : undefined;
    return this.atOffset(range?.[0] ?? 0, field);
  }

  report(at: At, message: string): void {
    this.problems.push({ file: this.file, line: at.line, col: at.col, field: at.field, message });
  }

  /** The slot for a node, following aliases; undefined when it is null. The position stays the alias's. */
  slot(node: unknown, field: string): Slot | undefined {
    const at = this.atNode(node, field);
    const resolved = this.resolve(node);
    if (isMap(resolved) || isSeq(resolved)) return { node: resolved, at };
    if (isScalar(resolved) && resolved.value !== null && resolved.value !== undefined) return { node: resolved, at };
    return undefined;
  }

  string(s: Slot): Val<string> | undefined {
    if (isScalar(s.node) && typeof s.node.value === 'string') return { value: s.node.value, at: s.at };
    if (isScalar(s.node)) {
      this.report(s.at, `must be a string; quote it: "${s.node.source ?? String(s.node.value)}"`);
    } else {
      this.report(s.at, `must be a string, not a ${isMap(s.node) ? 'mapping' : 'list'}`);
    }
    return undefined;
  }

  boolean(s: Slot): Val<boolean> | undefined {
    if (isScalar(s.node) && typeof s.node.value === 'boolean') return { value: s.node.value, at: s.at };
    this.report(s.at, 'must be true or false');
    return undefined;
  }

  /** A finite number above zero; `rule` says what it is when it is not. */
  positive(s: Slot, rule: string): Val<number> | undefined {
    const n = isScalar(s.node) ? s.node.value : undefined;
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) return { value: n, at: s.at };
    this.report(s.at, `must be ${rule}`);
    return undefined;
  }

  /** A whole number from min to max; `rule` says what it is when it is not. */
  integer(s: Slot, min: number, max: number, rule: string): Val<number> | undefined {
    const n = isScalar(s.node) ? s.node.value : undefined;
    if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return { value: n, at: s.at };
    this.report(s.at, `must be ${rule}`);
    return undefined;
  }

  /** A mapping with a fixed set of fields; every other field is reported. */
  fields(s: Slot, known: readonly string[]): Fields | undefined {
    const entries = this.entries(s);
    if (!entries) return undefined;
    const map = new Map<string, Entry>();
    for (const entry of entries) {
      if (known.includes(entry.key.value)) map.set(entry.key.value, entry);
      else this.report(entry.key.at, `unknown field "${entry.key.value}"${didYouMean(entry.key.value, known)}`);
    }
    return new Fields(this, s.at, map);
  }

  /** A mapping with free-form string keys, such as labels. */
  entries(s: Slot): Entry[] | undefined {
    if (!isMap(s.node)) {
      this.report(s.at, MAP_HINT);
      return undefined;
    }
    const entries: Entry[] = [];
    for (const pair of s.node.items) {
      const keyNode = this.resolve(pair.key);
      const keyAt = this.atNode(pair.key, s.at.field);
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        const shown = isScalar(keyNode) ? ` "${keyNode.source ?? String(keyNode.value)}"` : '';
        this.report(keyAt, `field name${shown} must be a string; quote it`);
        continue;
      }
      const field = childPath(s.at.field, keyNode.value);
      entries.push({
        key: { value: keyNode.value, at: { ...keyAt, field } },
        value: this.slot(pair.value, field),
      });
    }
    return entries;
  }

  list(s: Slot): Array<Slot | undefined> | undefined {
    if (!isSeq(s.node)) {
      this.report(s.at, LIST_HINT);
      return undefined;
    }
    return s.node.items.map((item, i) => {
      const field = itemPath(s.at.field, i);
      return this.slot(item, field) ?? this.nullItem(item, field);
    });
  }

  /** A null list item ("-" alone) has no slot; this reports it once and yields nothing. */
  private nullItem(item: unknown, field: string): undefined {
    this.report(this.atNode(item, field), 'is empty; give the item a value or remove the "-" line');
    return undefined;
  }
}

export interface Entry {
  key: Val<string>;
  /** Undefined when the value is null (`key:` with nothing after it). */
  value: Slot | undefined;
}

/** Typed access to the known fields of one mapping. */
export class Fields {
  constructor(
    private readonly walker: Walker,
    /** The mapping's own position; missing fields are reported here. */
    readonly at: At,
    private readonly entries: ReadonlyMap<string, Entry>,
  ) {}

  path(key: string): string {
    return childPath(this.at.field, key);
  }

  /** Where `key` is, or where it would go if it is missing. */
  where(key: string): At {
    return this.entries.get(key)?.key.at ?? { ...this.at, field: this.path(key) };
  }

  /** The value of `key`; when `required` is set, a missing or null value is reported with that hint. */
  get(key: string, required?: string): Slot | undefined {
    const value = this.entries.get(key)?.value;
    if (!value && required !== undefined) this.walker.report(this.where(key), `is required; ${required}`);
    return value;
  }

  string(key: string, required?: string): Val<string> | undefined {
    const s = this.get(key, required);
    return s && this.walker.string(s);
  }

  boolean(key: string): Val<boolean> | undefined {
    const s = this.get(key);
    return s && this.walker.boolean(s);
  }

  positive(key: string, rule: string): Val<number> | undefined {
    const s = this.get(key);
    return s && this.walker.positive(s, rule);
  }

  integer(key: string, min: number, max: number, rule: string): Val<number> | undefined {
    const s = this.get(key);
    return s && this.walker.integer(s, min, max, rule);
  }

  fields(key: string, known: readonly string[], required?: string): Fields | undefined {
    const s = this.get(key, required);
    return s && this.walker.fields(s, known);
  }

  /** A mapping with free-form keys under `key`. */
  mapping(key: string): Entry[] | undefined {
    const s = this.get(key);
    return s && this.walker.entries(s);
  }

  list(key: string, required?: string): Array<Slot | undefined> | undefined {
    const s = this.get(key, required);
    return s && this.walker.list(s);
  }
}
