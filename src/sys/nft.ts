// The commands kube-proxy's nftables mode runs inside a node's network
// namespace: one `nft -f -` transaction per sync (script on stdin) and the
// listings it needs to find stale chains and sets. Argument arrays only.
import { assertNetnsName, inNetns } from './netns.js';
import type { CommandRunner, RunResult } from './runner.js';

export interface NetnsNft {
  readonly netns: string;
  /** Run a script as one atomic transaction. */
  run(script: string): Promise<RunResult>;
  /** Names of the chains, resp. sets, of one table; empty when the table does not exist. */
  listChains(family: string, table: string): Promise<string[]>;
  listSets(family: string, table: string): Promise<string[]>;
}

/** Names of `kind` objects of one table in `nft -j list …` output. */
export function namesInNftJson(json: string, kind: 'chain' | 'set', table: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return [];
  }
  const items = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['nftables'] : undefined;
  if (!Array.isArray(items)) return [];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const obj = (item as Record<string, unknown>)[kind];
    if (typeof obj !== 'object' || obj === null) continue;
    const o = obj as Record<string, unknown>;
    if (o['table'] === table && typeof o['name'] === 'string') out.push(o['name']);
  }
  return out;
}

const NAME = /^[A-Za-z0-9_-]+$/;

export function netnsNft(runner: CommandRunner, netns: string): NetnsNft {
  assertNetnsName(netns);
  const list = async (kind: 'chain' | 'set', family: string, table: string): Promise<string[]> => {
    if (!NAME.test(family) || !NAME.test(table)) throw new Error(`invalid nft family/table ${family} ${table}`);
    // `nft list chains <family>` answers even when the table is missing.
    const r = await runner.run(inNetns(netns, ['nft', '-j', 'list', `${kind}s`, family]), { allowFailure: true });
    return r.exitCode === 0 ? namesInNftJson(r.stdout, kind, table) : [];
  };
  return {
    netns,
    run: (script) => runner.run(inNetns(netns, ['nft', '-f', '-']), { input: script, allowFailure: true, timeoutMs: 60_000 }),
    listChains: (family, table) => list('chain', family, table),
    listSets: (family, table) => list('set', family, table),
  };
}
