// Name rules for lab files: the Kubernetes name and label syntaxes, Linux
// interface names, and "did you mean" suggestions for misspelt words.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export const DNS_LABEL_MAX = 63;
export const DNS_SUBDOMAIN_MAX = 253;
/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const IFNAME_MAX_BYTES = 15;

export const DNS_LABEL_RULE =
  `a lowercase RFC 1123 label of at most ${DNS_LABEL_MAX} characters: ` +
  `a-z, 0-9 and '-', starting and ending with a letter or digit`;

/** RFC 1123 label, as Kubernetes checks names of namespaces and Services. */
export function isDnsLabel(name: string): boolean {
  return name.length <= DNS_LABEL_MAX && DNS_LABEL.test(name);
}

/** RFC 1123 subdomain: dot-separated labels, at most 253 characters. */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= DNS_SUBDOMAIN_MAX && name.split('.').every((part) => DNS_LABEL.test(part));
}

/** Why a label key is invalid, or undefined when it is fine ("[prefix/]name" as Kubernetes allows). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (!isDnsSubdomain(prefix)) {
      return `the prefix before "/" must be a lowercase DNS subdomain such as example.com (at most ${DNS_SUBDOMAIN_MAX} characters)`;
    }
  }
  if (name.length === 0 || name.length > DNS_LABEL_MAX || !QUALIFIED_NAME_PART.test(name)) {
    return (
      `the name part must be 1-${DNS_LABEL_MAX} characters of A-Z, a-z, 0-9, '-', '_' and '.', ` +
      `starting and ending with a letter or digit (e.g. "disk" or "example.com/disk")`
    );
  }
  return undefined;
}

export function isLabelValue(value: string): boolean {
  return value.length <= DNS_LABEL_MAX && LABEL_VALUE.test(value);
}

export const LABEL_VALUE_RULE =
  `a label value: at most ${DNS_LABEL_MAX} characters of A-Z, a-z, 0-9, '-', '_' and '.', ` +
  `starting and ending with a letter or digit (or empty)`;

/**
 * Interface names nslab creates inside every node itself: the pod bridge,
 * flannel's vxlan device and kube-proxy's ipvs dummy. A NIC may not take them.
 */
export const NODE_RESERVED_IFNAMES: ReadonlySet<string> = new Set(['cni0', 'flannel.1', 'kube-ipvs0']);

/** The characters nslab accepts in an interface name: what `ip -batch` and every tool read as one plain word. */
export const IFNAME_CHARS = /^[A-Za-z0-9_.-]+$/;

/** A character as a message can show it: control and other invisible characters as \uXXXX escapes. */
export function showChar(ch: string): string {
  if (ch === ' ') return 'a space';
  return /^[\x21-\x7e]$/.test(ch) ? `'${ch}'` : `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

/**
 * Why an interface name is invalid, or undefined when nslab accepts it. The
 * kernel would take more (any byte but '/', ':', whitespace and NUL), but a
 * name goes unquoted into `ip -batch` lines, where '#' starts a comment, '\\'
 * joins lines and quotes group words; so only [A-Za-z0-9_.-] is allowed, and
 * the length is counted in bytes (IFNAMSIZ is 16 including the NUL).
 */
export function ifnameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > IFNAME_MAX_BYTES) {
    return `must be 1-${IFNAME_MAX_BYTES} bytes long, as Linux interface names are (e.g. eth1 or enp0s8)`;
  }
  if (!IFNAME_CHARS.test(name)) {
    const bad = [...name].find((ch) => !IFNAME_CHARS.test(ch)) ?? '';
    return `may contain only letters, digits, '_', '.' and '-' (e.g. eth1 or enp0s8), not ${showChar(bad)}`;
  }
  // Tools given the name as an argument (iptables -o, flannel --iface) would read it as an option.
  if (name.startsWith('-')) return `cannot start with '-'; use a name such as eth1`;
  // The kernel's dev_valid_name refuses these two.
  if (name === '.' || name === '..') return `cannot be "${name}"; use a name such as eth1`;
  if (name === 'lo') return `"lo" is the loopback interface every machine already has; pick another name such as eth1`;
  return undefined;
}

/** Edit distance counting insertions, deletions, substitutions and swaps of neighbours; case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= x.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(x.length, y.length);
}

/** The candidate closest to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "X"?` when a candidate is close, else the empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const best = closest(word, candidates);
  return best === undefined ? '' : `; did you mean "${best}"?`;
}

/** "a, b and c" (or "a, b or c") */
export function listWords(words: readonly string[], conjunction: 'and' | 'or' = 'and'): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1] ?? ''}`;
}

/**
 * What to say about `word` not being among `names`: the names there are,
 * and the likely one if `word` looks like a typo of it.
 */
export function notAmong(word: string, names: readonly string[], plural: string): string {
  if (names.length === 0) return `there are no ${plural}`;
  return `the ${plural} are ${listWords(names)}${didYouMean(word, names)}`;
}
