import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Percentiles of one latency population, in milliseconds. `count` 0 means nothing was measured. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  min: number;
  mean: number;
  /**
   * Where the true p99 lies with 95% confidence, from the samples themselves (order statistics, no
   * assumption about the distribution): `high` is null when there are too few samples to bound it from
   * above (under ~370, the worst sample may still be below the true p99). Absent when not computed.
   */
  p99_ci95?: { low: number; high: number | null };
}

/** Microseconds: the resolution the HDR histogram records at. */
const UNITS_PER_MS = 1000;

/**
 * Latencies recorded into Node's HDR histogram (3 significant digits, up to 10 minutes), read back as
 * percentiles. Samples travel between processes as plain microsecond numbers and are merged here.
 */
export class LatencyHistogram {
  readonly #histogram: RecordableHistogram = createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 });

  recordMs(milliseconds: number): void {
    if (!Number.isFinite(milliseconds)) return;
    this.#histogram.record(Math.max(1, Math.round(milliseconds * UNITS_PER_MS)));
  }

  recordAllMs(milliseconds: readonly number[]): void {
    for (const value of milliseconds) this.recordMs(value);
  }

  get count(): number {
    return this.#histogram.count;
  }

  summary(): LatencySummary {
    const h = this.#histogram;
    if (h.count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, min: 0, mean: 0 };
    const ms = (value: number) => round(value / UNITS_PER_MS);
    return {
      count: h.count,
      p50: ms(h.percentile(50)),
      p90: ms(h.percentile(90)),
      p99: ms(h.percentile(99)),
      p999: ms(h.percentile(99.9)),
      max: ms(h.max),
      min: ms(h.min),
      mean: ms(h.mean),
    };
  }
}

export function summarize(milliseconds: readonly number[]): LatencySummary {
  const histogram = new LatencyHistogram();
  histogram.recordAllMs(milliseconds);
  const summary = histogram.summary();
  const interval = quantileInterval(milliseconds, 0.99);
  return interval ? { ...summary, p99_ci95: interval } : summary;
}

/**
 * A distribution-free confidence interval for the `q` quantile: with n samples, how many fall below the
 * true quantile is Binomial(n, q), so the interval runs between the sorted samples whose ranks bound that
 * count with `confidence` (each tail at most half of what is left). `high` is null when even the largest
 * sample is not far enough out; undefined when there are no samples at all.
 */
export function quantileInterval(
  samples: readonly number[],
  q: number,
  confidence = 0.95,
): { low: number; high: number | null } | undefined {
  const sorted = samples.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return undefined;
  const tail = (1 - confidence) / 2;
  // cdf[k] = P(B <= k) for B ~ Binomial(n, q), built from the log pmf (no overflow for large n).
  const logQ = Math.log(q);
  const logNotQ = Math.log1p(-q);
  let logPmf = n * logNotQ;
  let cumulative = 0;
  const cdf: number[] = [];
  for (let k = 0; k <= n; k++) {
    if (k > 0) logPmf += Math.log((n - k + 1) / k) + logQ - logNotQ;
    cumulative += Math.exp(logPmf);
    cdf.push(Math.min(1, cumulative));
  }
  // Lower bound: the sample of rank l (1-based) with P(B < l) <= tail, l as large as that allows.
  let low = 1;
  while (low < n && (cdf[low] ?? 1) <= tail) low += 1;
  // Upper bound: the sample of rank u with P(B >= u) <= tail, u as small as that allows.
  let high = n + 1;
  for (let u = n; u >= 1; u--) {
    if (1 - (cdf[u - 1] ?? 0) <= tail) high = u;
    else break;
  }
  return { low: round(sorted[low - 1]!), high: high <= n ? round(sorted[high - 1]!) : null };
}

/** Three decimals: microsecond precision is all a millisecond figure can honestly claim. */
export function round(value: number, decimals = 3): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
