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
  return histogram.summary();
}

/** Three decimals: microsecond precision is all a millisecond figure can honestly claim. */
export function round(value: number, decimals = 3): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
