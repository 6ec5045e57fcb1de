import { describe, expect, it } from 'vitest';
import { settle } from '../src/bench/run-bench.ts';

describe('settle (before a saturation is measured)', () => {
  it('waits while the servers use CPU, then for two idle windows in a row', async () => {
    // Busy (200 ms of CPU a window) for three windows, then idle: 1 first reading + 3 busy + 2 idle.
    const readings = [0, 200, 400, 600, 610, 620, 630, 640];
    let calls = 0;
    const cpu = () => readings[Math.min(calls++, readings.length - 1)] as number;
    await settle(cpu, 30_000);
    expect(calls).toBe(6);
  });

  it('does not count a busy window between idle ones as settled', async () => {
    // idle, busy, idle, idle: the busy window starts the count again.
    const readings = [0, 10, 300, 310, 320];
    let calls = 0;
    const cpu = () => readings[Math.min(calls++, readings.length - 1)] as number;
    await settle(cpu, 30_000);
    expect(calls).toBe(5);
  });

  it('gives up at its limit on a machine that never goes quiet', async () => {
    // Windows of at least 500 ms within 1.2 s: the first reading and at most three more.
    let busy = 0;
    await settle(() => (busy += 1000), 1200);
    expect(busy).toBeLessThanOrEqual(4000);
  });
});
