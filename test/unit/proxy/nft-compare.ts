// Comparing nft scripts the way kube-proxy's nftables tests do: the rules of
// each chain in order, every other object (tables, sets, maps, chains,
// elements) as a set; comments and blank lines ignored.
export interface NftNormalForm {
  objects: string[];
  rules: Record<string, string[]>;
}

export function nftNormalForm(text: string): NftNormalForm {
  const objects: string[] = [];
  const rules: Record<string, string[]> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^add rule (\S+) (\S+) (\S+) (.*)$/.exec(line);
    if (m) {
      const chain = m[3] as string;
      (rules[chain] ??= []).push(m[4] as string);
    } else {
      objects.push(line);
    }
  }
  objects.sort();
  return { objects, rules };
}
