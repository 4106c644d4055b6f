// Exact fixed-point formatting of a double, rounding half to even on its exact
// binary value, as Go's fmt ("%0.10f") and glibc's printf ("%.11f") do.
// Number.prototype.toFixed rounds ties up instead (1/2048 → ...813, Go: ...812).

export function formatFixed(x: number, decimals: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot format ${x}`);
  const negative = x < 0 || Object.is(x, -0);
  const { mantissa, exponent } = decompose(Math.abs(x));
  // value = mantissa * 2^exponent; want round(value * 10^decimals)
  const scale = 10n ** BigInt(decimals);
  let q: bigint;
  if (exponent >= 0) {
    q = (mantissa << BigInt(exponent)) * scale;
  } else {
    const num = mantissa * scale;
    const den = 1n << BigInt(-exponent);
    q = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  }
  const digits = q.toString().padStart(decimals + 1, '0');
  const intPart = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals);
  const body = decimals > 0 ? `${intPart}.${frac}` : intPart;
  return negative && q !== 0n ? `-${body}` : body;
}

function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mantissa: frac, exponent: -1074 };
  return { mantissa: frac | (1n << 52n), exponent: biased - 1075 };
}

/** kube-proxy's computeProbability: fmt.Sprintf("%0.10f", 1.0/float64(n)). */
export function computeProbability(n: number): string {
  return formatFixed(1 / n, 10);
}

/**
 * What iptables-save prints for a statistic probability: the kernel keeps
 * lround(p * 2^31) and the save code prints "%.11f" of that over 2^31.
 */
export function savedProbability(written: string): string {
  const stored = Math.round(Number.parseFloat(written) * 0x80000000);
  return formatFixed(stored / 0x80000000, 11);
}
