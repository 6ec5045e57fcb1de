import { describe, expect, it } from 'vitest';
import { throughputVerdict } from '../src/bench/bench-report.ts';

describe('the throughput target', () => {
  it('is judged against the mean of two baselines that agree', () => {
    expect(throughputVerdict(0.28, { before: 9667.5, after: 10725.2 })).toEqual({
      value: '0.28× (baseline 9667.5 msg/s before Baton, 10725.2 after: 11% apart)',
      met: true,
    });
    expect(throughputVerdict(0.21, { before: 10000, after: 9000 }).met).toBe(false);
  });

  it('is reported but not judged when the machine changed speed between the two baselines', () => {
    const verdict = throughputVerdict(0.3, { before: 12743.9, after: 5601.5 });
    expect(verdict.met).toBeNull();
    expect(verdict.value).toContain('128% apart: the machine changed speed under the measurement, not judged');
  });

  it('is judged on the one baseline when there is no second', () => {
    expect(throughputVerdict(0.26, { before: 9000, after: null })).toEqual({
      value: '0.26× (baseline 9000 msg/s)',
      met: true,
    });
    expect(throughputVerdict(null, { before: 9000, after: 9100 }).met).toBeNull();
  });
});
