// `nft -a list table FAMILY NAME` text → rule text by (chain, handle), so a
// traced rule can be shown as written, comment included (nft's trace drops
// the comments of iptables-nft rules). Pure.

export interface ListedRule {
  family: string;
  table: string;
  chain: string;
  handle: number;
  text: string;
  comment?: string;
}

function unquote(s: string): string {
  return s.replace(/\\(["\\])/g, '$1');
}

export function parseRuleListing(text: string): ListedRule[] {
  const out: ListedRule[] = [];
  let family = '';
  let table = '';
  let chain = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t) {
      family = t[1] ?? '';
      table = t[2] ?? '';
      chain = '';
      continue;
    }
    const c = /^chain (\S+) \{/.exec(line);
    if (c) {
      chain = c[1] ?? '';
      continue;
    }
    const r = /^(.*?)\s*# handle (\d+)$/.exec(line);
    if (!r || !chain || /^(type |policy )/.test(line)) continue;
    const body = r[1] ?? '';
    const comment = /\bcomment "((?:[^"\\]|\\.)*)"/.exec(body)?.[1];
    out.push({ family, table, chain, handle: Number(r[2]), text: body, ...(comment !== undefined ? { comment: unquote(comment) } : {}) });
  }
  return out;
}

export function ruleKey(family: string, table: string, chain: string, handle: number): string {
  return `${family} ${table} ${chain} ${handle}`;
}

export function ruleIndex(rules: readonly ListedRule[]): Map<string, ListedRule> {
  return new Map(rules.map((r) => [ruleKey(r.family, r.table, r.chain, r.handle), r]));
}

/** Whether `nft list table` text is of a table iptables-nft manages (its rules' comments are lost to nft). */
export function isIptablesNftTable(listing: string): boolean {
  return listing.includes('is managed by iptables-nft');
}

/**
 * iptables-nft rules as iptables-save writes them (comments included),
 * matched to nft's handles by their position in the chain: both list a
 * chain's rules in the same order.
 */
export function withIptablesText(rules: readonly ListedRule[], saveText: string): ListedRule[] {
  const byChain = new Map<string, string[]>();
  for (const line of saveText.split('\n')) {
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (m) byChain.set(m[1] ?? '', [...(byChain.get(m[1] ?? '') ?? []), line]);
  }
  const seen = new Map<string, number>();
  return rules.map((r) => {
    const i = seen.get(r.chain) ?? 0;
    seen.set(r.chain, i + 1);
    const line = byChain.get(r.chain)?.[i];
    if (line === undefined) return r;
    const comment = /--comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(line);
    const text = comment ? unquote(comment[1] ?? comment[2] ?? '') : undefined;
    return { ...r, text: line, ...(text !== undefined ? { comment: text } : {}) };
  });
}
