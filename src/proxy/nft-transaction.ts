// From the desired table (nftables.ts) and what the kernel holds to one
// `nft -f` script, as kube-proxy's nftables mode builds its transaction:
// a full sync re-creates the fixed chains, flushes the maps and rewrites
// every service; a partial sync rewrites only the changed services' chains
// and writes the differences of the map and set elements. Chains that went
// stale are flushed now and deleted by a later transaction (kernels before
// 6.2 notice only late that a vmap element no longer references a chain).
import {
  chainLines,
  containerLine,
  elementLine,
  NFT_FAMILY,
  NFT_TABLE,
  type NftChain,
  type NftDesired,
} from './nftables.js';

const PREFIX = `${NFT_FAMILY} ${NFT_TABLE}`;

/** Container → key → "value|comment", what earlier transactions wrote. */
export type WrittenElements = Map<string, Map<string, string>>;

export interface NftTransactionInput {
  full: boolean;
  /** Services ("namespace/name") to rewrite on a partial sync. */
  changedServices: ReadonlySet<string>;
  /** Per-service chains in the kernel (listed on full syncs, tracked otherwise). */
  existingChains: ReadonlySet<string>;
  /** Chains already flushed as stale by an earlier transaction. */
  staleChains: ReadonlySet<string>;
  existingAffinitySets: ReadonlySet<string>;
  /** Elements as written so far; ignored on a full sync (the maps are flushed). */
  written: WrittenElements;
}

export interface NftTransaction {
  script: string;
  /** Per-service chains the table holds after it. */
  activeChains: Set<string>;
  /** Chains this transaction flushed because they went stale (delete them later). */
  newlyStale: string[];
  activeAffinitySets: Set<string>;
  written: WrittenElements;
}

function fingerprint(value: string | undefined, comment: string | undefined): string {
  return `${value ?? ''}|${comment ?? ''}`;
}

function declareAndFill(lines: string[], chains: readonly NftChain[]): void {
  // Declare (and empty) every chain before any rule can reference it.
  for (const c of chains) {
    const [decl] = chainLines(c);
    lines.push(decl as string, `flush chain ${PREFIX} ${c.name}`);
  }
  for (const c of chains) lines.push(...chainLines(c).slice(1));
}

export function nftTransaction(d: NftDesired, input: NftTransactionInput): NftTransaction {
  const lines: string[] = [];
  if (input.full) {
    lines.push(`add table ${PREFIX} { comment "rules for kube-proxy" ; }`);
    for (const c of d.containers) lines.push(containerLine(c), `flush ${c.kind} ${PREFIX} ${c.name}`);
    declareAndFill(lines, d.baseChains);
  }
  const activeChains = new Set<string>();
  const activeAffinitySets = new Set<string>();
  for (const [svc, objs] of d.services) {
    for (const c of objs.chains) activeChains.add(c.name);
    for (const s of objs.affinitySets) activeAffinitySets.add(s.name);
    if (!input.full && !input.changedServices.has(svc)) continue;
    for (const s of objs.affinitySets) lines.push(containerLine(s));
    declareAndFill(lines, objs.chains);
  }

  // Elements: everything on a full sync (the maps were flushed), else the difference.
  const written: WrittenElements = new Map();
  const deletions: string[] = [];
  for (const [container, els] of d.elements) {
    const before = input.full ? new Map<string, string>() : (input.written.get(container) ?? new Map<string, string>());
    const now = new Map<string, string>();
    for (const e of els.values()) {
      const fp = fingerprint(e.value, e.comment);
      now.set(e.key, fp);
      const old = before.get(e.key);
      if (old === fp) continue;
      if (old !== undefined) lines.push(`delete element ${PREFIX} ${container} { ${e.key} }`);
      lines.push(elementLine(container, e));
    }
    for (const key of before.keys()) if (!now.has(key)) deletions.push(`delete element ${PREFIX} ${container} { ${key} }`);
    written.set(container, now);
  }
  // Deleted elements first: they may point at chains this transaction flushes.
  lines.push(...deletions);

  const newlyStale: string[] = [];
  for (const c of [...input.existingChains].sort()) {
    if (activeChains.has(c) || input.staleChains.has(c)) continue;
    lines.push(`flush chain ${PREFIX} ${c}`);
    newlyStale.push(c);
  }
  for (const s of [...input.existingAffinitySets].sort()) {
    if (!activeAffinitySets.has(s)) lines.push(`delete set ${PREFIX} ${s}`);
  }
  return { script: lines.length > 0 ? `${lines.join('\n')}\n` : '', activeChains, newlyStale, activeAffinitySets, written };
}

/** The transaction that deletes stale chains (run before the sync's own). */
export function nftDeleteChains(chains: readonly string[]): string {
  return chains.map((c) => `delete chain ${PREFIX} ${c}\n`).join('');
}
