// How the deployment controller moves replicas from old ReplicaSets to the
// new one, as pkg/controller/deployment does it (rolling.go, recreate.go,
// util/deployment_util.go). Pure: facts about ReplicaSets in, the replica
// counts to write out. Each call is one reconcile pass; the controller runs
// another pass whenever a ReplicaSet or pod changes, so a rollout proceeds
// step by step as new pods become available.

export type IntOrString = number | string;

export interface Strategy {
  type?: string;
  rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString };
}

export interface ReplicaSetFacts {
  name: string;
  /** spec.replicas */
  replicas: number;
  /** status.availableReplicas: pods Ready for at least minReadySeconds. */
  available: number;
  creationTimestamp: string;
}

/**
 * intstr.GetScaledValueFromIntOrPercent: a number as is, "N%" of total
 * rounded up or down. Anything else is an error (validation refuses it).
 */
export function scaledValue(v: IntOrString, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return Math.trunc(v);
  const m = /^(\d+)%$/.exec(v);
  if (m) {
    const exact = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  if (/^\d+$/.test(v)) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  throw new Error(`invalid value "${v}": must be an integer or percentage (e.g '5%')`);
}

const DEFAULT_SURGE: IntOrString = '25%';
const DEFAULT_UNAVAILABLE: IntOrString = '25%';

export function isRecreate(s: Strategy | undefined): boolean {
  return s?.type === 'Recreate';
}

/** ResolveFenceposts: maxSurge rounds up, maxUnavailable down; both 0 makes maxUnavailable 1. */
export function resolveFenceposts(strategy: Strategy | undefined, desired: number): { surge: number; unavailable: number } {
  const ru = strategy?.rollingUpdate ?? {};
  const surge = scaledValue(ru.maxSurge ?? DEFAULT_SURGE, desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? DEFAULT_UNAVAILABLE, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** MaxUnavailable: 0 for Recreate or no replicas, never more than the replicas. */
export function maxUnavailable(strategy: Strategy | undefined, desired: number): number {
  if (isRecreate(strategy) || desired === 0) return 0;
  return Math.min(resolveFenceposts(strategy, desired).unavailable, desired);
}

/** MaxSurge: 0 for Recreate. */
export function maxSurge(strategy: Strategy | undefined, desired: number): number {
  if (isRecreate(strategy)) return 0;
  return resolveFenceposts(strategy, desired).surge;
}

const sum = (rs: readonly ReplicaSetFacts[], f: (r: ReplicaSetFacts) => number) => rs.reduce((n, r) => n + f(r), 0);

/** ReplicaSetsByCreationTimestamp: oldest first, then by name. */
function byAge(rs: readonly ReplicaSetFacts[]): ReplicaSetFacts[] {
  return [...rs].sort((a, b) => a.creationTimestamp.localeCompare(b.creationTimestamp) || a.name.localeCompare(b.name));
}

/**
 * One pass of rolloutRolling: scale the new ReplicaSet up within maxSurge;
 * if that changed nothing, scale old ones down as far as maxUnavailable
 * allows, counting only available pods, so old pods go only as new ones
 * become available. Returns the ReplicaSets whose replicas change.
 */
export function rollingUpdateStep(desired: number, strategy: Strategy | undefined, newRS: ReplicaSetFacts, oldRSs: readonly ReplicaSetFacts[]): Map<string, number> {
  const out = new Map<string, number>();
  const all = [...oldRSs, newRS];
  // reconcileNewReplicaSet
  if (newRS.replicas > desired) {
    out.set(newRS.name, desired);
    return out;
  }
  if (newRS.replicas < desired) {
    const maxTotal = desired + maxSurge(strategy, desired);
    const current = sum(all, (r) => r.replicas);
    const up = Math.min(maxTotal - current, desired - newRS.replicas);
    if (up > 0) {
      out.set(newRS.name, newRS.replicas + up);
      return out;
    }
  }
  // reconcileOldReplicaSets
  if (sum(oldRSs, (r) => r.replicas) === 0) return out;
  const minAvailable = desired - maxUnavailable(strategy, desired);
  const newUnavailable = newRS.replicas - newRS.available;
  const maxScaledDown = sum(all, (r) => r.replicas) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;
  const next = new Map(oldRSs.map((r) => [r.name, r.replicas]));
  // cleanupUnhealthyReplicas: unavailable old pods go first, they serve nobody.
  let cleaned = 0;
  for (const rs of byAge(oldRSs)) {
    if (cleaned >= maxScaledDown) break;
    const cur = next.get(rs.name) ?? 0;
    if (cur === 0 || cur <= rs.available) continue;
    const n = Math.min(maxScaledDown - cleaned, cur - rs.available);
    next.set(rs.name, cur - n);
    cleaned += n;
  }
  // scaleDownOldReplicaSetsForRollingUpdate: as many available old pods as leave minAvailable.
  const available = sum(all, (r) => r.available);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let done = 0;
    for (const rs of byAge(oldRSs)) {
      if (done >= total) break;
      const cur = next.get(rs.name) ?? 0;
      if (cur === 0) continue;
      const n = Math.min(cur, total - done);
      next.set(rs.name, cur - n);
      done += n;
    }
  }
  for (const rs of oldRSs) if (next.get(rs.name) !== rs.replicas) out.set(rs.name, next.get(rs.name) ?? 0);
  return out;
}

/**
 * One pass of rolloutRecreate: every old ReplicaSet to 0; the new one to
 * the desired count only once no old pod runs any more (terminating ones
 * included).
 */
export function recreateStep(desired: number, newRS: ReplicaSetFacts, oldRSs: readonly ReplicaSetFacts[], oldPodsRunning: boolean): Map<string, number> {
  const out = new Map<string, number>();
  for (const rs of oldRSs) if (rs.replicas !== 0) out.set(rs.name, 0);
  if (out.size > 0 || oldPodsRunning) return out;
  if (newRS.replicas !== desired) out.set(newRS.name, desired);
  return out;
}

/**
 * cleanupDeployment: old ReplicaSets beyond revisionHistoryLimit, lowest
 * revision first, and only those scaled to 0 with no pod left.
 */
export function replicaSetsToCleanUp(old: ReadonlyArray<{ name: string; revision: number; replicas: number; pods: number }>, limit: number): string[] {
  const diff = old.length - Math.max(0, limit);
  if (diff <= 0) return [];
  return [...old]
    .sort((a, b) => a.revision - b.revision || a.name.localeCompare(b.name))
    .slice(0, diff)
    .filter((r) => r.replicas === 0 && r.pods === 0)
    .map((r) => r.name);
}
