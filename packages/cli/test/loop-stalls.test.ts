import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { STALL_MS } from '../src/bench/handoff-samples.ts';
import { LoopStallRecorder, STALL_PERIOD_MS } from '../src/bench/loop-stalls.ts';

const SCHEDSTAT = '/proc/self/schedstat';

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose: the loop stands still.
  }
}

describe('LoopStallRecorder', () => {
  let recorder: LoopStallRecorder | undefined;
  afterEach(() => {
    recorder?.stop();
    recorder = undefined;
  });

  it('notes a loop held up by a long task, on the clock the clients stamp with', async () => {
    recorder = new LoopStallRecorder();
    await sleep(3 * STALL_PERIOD_MS);
    const before = performance.timeOrigin + performance.now();
    spin(60);
    const after = performance.timeOrigin + performance.now();
    await sleep(3 * STALL_PERIOD_MS);
    const { stalls, seconds } = recorder.take();
    expect(seconds).toBeGreaterThan(0.05);
    const long = stalls.filter((stall) => stall.ms >= STALL_MS);
    expect(long.length).toBeGreaterThan(0);
    const stall = long.reduce((a, b) => (b.ms > a.ms ? b : a));
    // The timer was due within the spin and ran once it ended: at least most of the spin, not more than the gap.
    expect(stall.ms).toBeGreaterThan(60 - 2 * STALL_PERIOD_MS);
    expect(stall.at).toBeGreaterThanOrEqual(before - STALL_PERIOD_MS);
    expect(stall.at + stall.ms).toBeLessThanOrEqual(after + STALL_PERIOD_MS);
    if (existsSync(SCHEDSTAT)) {
      // Spinning is running: the thread's clock says so (unless the machine took the core away meanwhile).
      expect((stall.ranMs ?? 0) + (stall.waitedMs ?? 0)).toBeGreaterThan(stall.ms * 0.5);
      expect(stall.ranMs).toBeGreaterThan(0);
    }
    // A new window from the take: the spin is not in it.
    await sleep(3 * STALL_PERIOD_MS);
    expect(recorder.take().stalls.filter((entry) => entry.ms >= 40)).toEqual([]);
  });

  it('records GC pauses with when they began', async () => {
    recorder = new LoopStallRecorder();
    const start = performance.timeOrigin + performance.now();
    // Garbage enough for several scavenges.
    let keep = 0;
    for (let round = 0; round < 200; round++) {
      const garbage = Array.from({ length: 10_000 }, (_, index) => ({ index, text: `item ${index}` }));
      keep += garbage.length;
    }
    expect(keep).toBe(2_000_000);
    // The GC observer reports on a later turn.
    await sleep(50);
    const { gcTimeline, gcPausesMs } = recorder.take();
    expect(gcPausesMs.length).toBeGreaterThan(0);
    expect(gcTimeline.length).toBe(gcPausesMs.length);
    for (const pause of gcTimeline) {
      expect(pause.at).toBeGreaterThanOrEqual(start - 1);
      expect(pause.ms).toBeGreaterThanOrEqual(0);
    }
  });
});
