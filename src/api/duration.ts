// kube's human-readable durations (k8s.io/apimachinery/pkg/util/duration),
// used for every AGE cell. Inputs are milliseconds; Go truncates toward zero
// when converting durations to whole units, and so do we.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const whole = (ms: number, unit: number): number => Math.trunc(ms / unit);

/** ~2-3 significant figures: "5s", "119s", "3m10s", "70m", "3h1m", "47h", "2d1h", "367d", "2y1d", "8y". */
export function humanDuration(ms: number): string {
  // Up to 2 s in the future is clock skew: "now".
  const seconds = whole(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = whole(ms, MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = whole(ms, HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${whole(hours, 24)}d` : `${whole(hours, 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${whole(hours, 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = whole(hours, 24) % 365;
    const y = whole(hours, 24 * 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${whole(hours, 24 * 365)}y`;
}

/** One unit only: "59s", "1m", "23h", "364d", "2y". */
export function shortHumanDuration(ms: number): string {
  const seconds = whole(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = whole(ms, MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = whole(ms, HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${whole(hours, 24)}d`;
  return `${whole(hours, 24 * 365)}y`;
}

/** AGE of an RFC 3339 timestamp at `now`; "<unknown>" when unset, as translateTimestampSince. */
export function ageSince(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now.getTime() - t);
}
