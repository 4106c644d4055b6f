// A small model of what the kernel does with the nft commands kube-proxy's
// nftables mode writes, strict where the kernel is: a transaction applies
// whole or not at all; a rule may only reference existing chains and sets;
// a referenced chain or set cannot be deleted; deleting a missing element or
// re-adding a map key with another verdict fails. Only `table ip kube-proxy`.
export interface ModelChain {
  spec: string;
  rules: string[];
}
export interface ModelContainer {
  kind: 'set' | 'map';
  spec: string;
  elements: Map<string, string>;
}
export interface ModelState {
  table: boolean;
  chains: Map<string, ModelChain>;
  containers: Map<string, ModelContainer>;
}

export function emptyState(): ModelState {
  return { table: false, chains: new Map(), containers: new Map() };
}

function clone(s: ModelState): ModelState {
  return {
    table: s.table,
    chains: new Map([...s.chains].map(([k, v]) => [k, { spec: v.spec, rules: [...v.rules] }])),
    containers: new Map([...s.containers].map(([k, v]) => [k, { kind: v.kind, spec: v.spec, elements: new Map(v.elements) }])),
  };
}

/** Chains (goto/jump targets) and sets (@name) a rule or verdict references. */
function references(text: string): { chains: string[]; sets: string[] } {
  const chains = [...text.matchAll(/\b(?:goto|jump) (\S+)/g)].map((m) => m[1] as string);
  const sets = [...text.matchAll(/@(\S+)/g)].map((m) => m[1] as string);
  return { chains, sets };
}

function referenced(s: ModelState): { chains: Set<string>; sets: Set<string> } {
  const chains = new Set<string>();
  const sets = new Set<string>();
  const add = (t: string) => {
    const r = references(t);
    r.chains.forEach((c) => chains.add(c));
    r.sets.forEach((x) => sets.add(x));
  };
  for (const c of s.chains.values()) c.rules.forEach(add);
  for (const c of s.containers.values()) for (const v of c.elements.values()) add(v);
  return { chains, sets };
}

const P = 'ip kube-proxy';

/** Apply one script as a transaction; throws (leaving `s` untouched) if the kernel would refuse it. */
export function applyScript(s: ModelState, script: string): ModelState {
  const n = clone(s);
  const deferredChecks: Array<() => void> = [];
  for (const line of script.split('\n')) {
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^add table ${P}( .*)?$`).exec(line))) {
      n.table = true;
    } else if ((m = new RegExp(`^add chain ${P} (\\S+)(?: (.*))?$`).exec(line))) {
      if (!n.table) throw new Error(`no table: ${line}`);
      const name = m[1] as string;
      if (!n.chains.has(name)) n.chains.set(name, { spec: m[2] ?? '', rules: [] });
    } else if ((m = new RegExp(`^flush chain ${P} (\\S+)$`).exec(line))) {
      const c = n.chains.get(m[1] as string);
      if (!c) throw new Error(`flush of a missing chain: ${line}`);
      c.rules = [];
    } else if ((m = new RegExp(`^delete chain ${P} (\\S+)$`).exec(line))) {
      const name = m[1] as string;
      if (!n.chains.has(name)) throw new Error(`delete of a missing chain: ${line}`);
      n.chains.delete(name);
      deferredChecks.push(() => {
        if (referenced(n).chains.has(name)) throw new Error(`chain still referenced: ${line}`);
      });
    } else if ((m = new RegExp(`^add rule ${P} (\\S+) (.*)$`).exec(line))) {
      const c = n.chains.get(m[1] as string);
      if (!c) throw new Error(`rule in a missing chain: ${line}`);
      const r = references(m[2] as string);
      for (const t of r.chains) if (!n.chains.has(t)) throw new Error(`rule references missing chain ${t}: ${line}`);
      for (const t of r.sets) if (!n.containers.has(t)) throw new Error(`rule references missing set ${t}: ${line}`);
      c.rules.push(m[2] as string);
    } else if ((m = new RegExp(`^add (set|map) ${P} (\\S+) (.*)$`).exec(line))) {
      if (!n.containers.has(m[2] as string)) n.containers.set(m[2] as string, { kind: m[1] as 'set' | 'map', spec: m[3] as string, elements: new Map() });
    } else if ((m = new RegExp(`^flush (set|map) ${P} (\\S+)$`).exec(line))) {
      const c = n.containers.get(m[2] as string);
      if (!c) throw new Error(`flush of a missing ${m[1]}: ${line}`);
      c.elements.clear();
    } else if ((m = new RegExp(`^delete (set|map) ${P} (\\S+)$`).exec(line))) {
      const name = m[2] as string;
      if (!n.containers.delete(name)) throw new Error(`delete of a missing set: ${line}`);
      deferredChecks.push(() => {
        if (referenced(n).sets.has(name)) throw new Error(`set still referenced: ${line}`);
      });
    } else if ((m = new RegExp(`^add element ${P} (\\S+) \\{ (.*) \\}$`).exec(line))) {
      const c = n.containers.get(m[1] as string);
      if (!c) throw new Error(`element of a missing set: ${line}`);
      const body = m[2] as string;
      const key = body.replace(/ comment ".*$/, '').replace(/ : .*$/, '');
      const rest = body.slice(key.length);
      for (const t of references(rest).chains) if (!n.chains.has(t)) throw new Error(`element references missing chain ${t}: ${line}`);
      const old = c.elements.get(key);
      if (old !== undefined && old !== rest) throw new Error(`element exists with other data: ${line}`);
      c.elements.set(key, rest);
    } else if ((m = new RegExp(`^delete element ${P} (\\S+) \\{ (.*) \\}$`).exec(line))) {
      const c = n.containers.get(m[1] as string);
      if (!c || !c.elements.delete(m[2] as string)) throw new Error(`delete of a missing element: ${line}`);
    } else {
      throw new Error(`unknown command: ${line}`);
    }
  }
  // The kernel checks references at commit time.
  for (const check of deferredChecks) check();
  return n;
}

/** A comparable picture: chains with their rules, containers with their elements. */
export function stateView(s: ModelState): Record<string, unknown> {
  return {
    table: s.table,
    chains: Object.fromEntries([...s.chains].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v])),
    containers: Object.fromEntries(
      [...s.containers].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, { kind: v.kind, spec: v.spec, elements: [...v.elements].sort() }]),
    ),
  };
}
