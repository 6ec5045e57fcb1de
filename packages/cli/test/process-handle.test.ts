import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loopLateness, scheduleReader, threadSchedule } from '../src/bench/process-handle.ts';

const SCHEDSTAT = '/proc/self/schedstat';

describe('scheduleReader', () => {
  it.runIf(existsSync(SCHEDSTAT))('reads the file afresh each time through its one descriptor', () => {
    const read = scheduleReader(SCHEDSTAT);
    const first = read();
    expect(first).toBeDefined();
    // Work until the reader shows it on the thread's clock: a reader that kept its first figures never does.
    // (Spinning for a fixed time instead was not enough: on a busy machine a 30 ms spin got under 20 ms
    // of a core.) The cap only stops a test that would otherwise hang.
    const cap = performance.now() + 10_000;
    let second = read();
    while ((second?.ranMs ?? 0) < (first?.ranMs ?? 0) + 20 && performance.now() < cap) second = read();
    expect(second?.ranMs).toBeGreaterThanOrEqual((first?.ranMs ?? 0) + 20);
    // The same figures as a fresh read of the whole file, within the time between the two reads.
    const whole = threadSchedule(SCHEDSTAT);
    const third = read();
    expect(whole?.ranMs).toBeGreaterThanOrEqual(second?.ranMs ?? Number.POSITIVE_INFINITY);
    expect(third?.ranMs).toBeGreaterThanOrEqual(whole?.ranMs ?? Number.POSITIVE_INFINITY);
  });

  it('reads nothing where the file cannot be opened', () => {
    expect(scheduleReader('/nonexistent/schedstat')()).toBeUndefined();
    expect(threadSchedule('/nonexistent/schedstat')).toBeUndefined();
  });
});

describe('loopLateness', () => {
  it("is what the timer's intervals exceed its period by, never below 0", () => {
    // monitorEventLoopDelay's histogram holds whole intervals (ns): a 5 ms timer that ran on time reads 5 ms.
    const intervalsNs: Record<number, number> = { 50: 5.1e6, 99: 7.2e6 };
    const histogram = { percentile: (p: number) => intervalsNs[p] ?? Number.NaN, max: 23e6 };
    const late = loopLateness(histogram, 5);
    expect(late.p50).toBeCloseTo(0.1, 6);
    expect(late.p99).toBeCloseTo(2.2, 6);
    expect(late.max).toBeCloseTo(18, 6);
    // An interval a little short of the period (timer granularity) is no lateness, not a negative one.
    expect(loopLateness({ percentile: () => 4.9e6, max: 4.9e6 }, 5)).toEqual({ p50: 0, p99: 0, max: 0 });
  });
});
