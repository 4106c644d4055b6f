// The pure decisions of the workload controllers and the scheduler.

/** kube's rand.SafeEncodeString alphabet: no vowels, no look-alikes. */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function safeEncode(s: string): string {
  return [...s].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The pod-template-hash, in the format of the controller's ComputeHash
 * (FNV-32a, printed in decimal, safe-encoded). Go hashes its own dump of
 * the template, so values differ from a real cluster's; the shape does not.
 */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  return safeEncode(String(fnv32a(canonical(template) + (collisionCount ? String(collisionCount) : ''))));
}

export interface PodFacts {
  name: string;
  nodeName?: string;
  ready: boolean;
  creationTimestamp: string;
}

/** Which pods a ReplicaSet deletes when it has too many: unscheduled, then not ready, then newest first. */
export function podsToDelete(pods: PodFacts[], count: number): string[] {
  const rank = (p: PodFacts) => (p.nodeName ? 1 : 0) * 2 + (p.ready ? 1 : 0);
  return [...pods]
    .sort((a, b) => rank(a) - rank(b) || b.creationTimestamp.localeCompare(a.creationTimestamp) || b.name.localeCompare(a.name))
    .slice(0, Math.max(0, count))
    .map((p) => p.name);
}

export interface NodeFacts {
  name: string;
  ready: boolean;
  unschedulable: boolean;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

function tolerates(tolerations: Toleration[], taint: NodeFacts['taints'][number]): boolean {
  return tolerations.some(
    (t) =>
      (t.effect === undefined || t.effect === '' || t.effect === taint.effect) &&
      (t.operator === 'Exists' ? t.key === undefined || t.key === '' || t.key === taint.key : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
  );
}

export interface ScheduleResult {
  node?: string;
  /** Upstream's FailedScheduling message when no node fits. */
  message?: string;
}

/** Filter nodes as the default scheduler does (readiness, cordon, nodeSelector, taints) and pick the least loaded. */
export function schedule(
  pod: { nodeSelector?: Record<string, string>; tolerations?: Toleration[] },
  nodes: NodeFacts[],
  podsPerNode: Map<string, number>,
): ScheduleResult {
  const reasons = new Map<string, number>();
  const fail = (why: string) => reasons.set(why, (reasons.get(why) ?? 0) + 1);
  const fit = nodes.filter((n) => {
    if (!n.ready) return fail("node(s) had untolerated taint {node.kubernetes.io/not-ready: }"), false;
    if (n.unschedulable) return fail('node(s) were unschedulable'), false;
    const sel = pod.nodeSelector ?? {};
    if (!Object.entries(sel).every(([k, v]) => n.labels[k] === v)) return fail("node(s) didn't match Pod's node affinity/selector"), false;
    const bad = n.taints.find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.tolerations ?? [], t));
    if (bad) return fail(`node(s) had untolerated taint {${bad.key}: ${bad.value ?? ''}}`), false;
    return true;
  });
  const best = fit.sort((a, b) => (podsPerNode.get(a.name) ?? 0) - (podsPerNode.get(b.name) ?? 0) || a.name.localeCompare(b.name))[0];
  if (best) return { node: best.name };
  const detail = [...reasons.entries()].map(([why, n]) => `${n} ${why}`).sort().join(', ');
  return { message: `0/${nodes.length} nodes are available: ${detail}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.` };
}
