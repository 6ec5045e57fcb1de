import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PausesReport, ServerStall } from './bench-protocol.ts';
import { STALL_MS, stallSchedule } from './handoff-samples.ts';
import { scheduleReader } from './process-handle.ts';

/** The recorder's timer period (ms): cheap enough to run in every process of the bench. */
export const STALL_PERIOD_MS = 10;
/** Entries kept per window, so a long or overloaded run cannot grow a process without bound. */
const TIMELINE_LIMIT = 5_000;

/** What held one process's event loop up over a window: its stalls and GC pauses, on the machine's clock. */
export type LoopPauses = Pick<PausesReport, 'gcPausesMs' | 'gcMajorPausesMs' | 'gcTimeline' | 'stalls' | 'seconds'>;

/**
 * Records what holds this process's event loop up, to lay beside the handoffs it measured: a timer every
 * `STALL_PERIOD_MS` notes each run at least `STALL_MS` late, with how the main thread spent that time
 * (/proc/self/schedstat: on a CPU, or waiting for one), and every GC pause with when it began. The servers
 * run one (what the product did); so do the load processes (what the instrument did), since a client
 * busy or paused when a frame arrives stamps it late. Entries carry `server: 0`; the orchestrator numbers
 * the processes.
 */
export class LoopStallRecorder {
  #gcPauses: number[] = [];
  #gcMajorPauses: number[] = [];
  #gcTimeline: PausesReport['gcTimeline'] = [];
  #stalls: ServerStall[] = [];
  #since = performance.now();
  readonly #observer: PerformanceObserver;
  readonly #timer: NodeJS.Timeout;

  constructor(schedstat = '/proc/self/schedstat') {
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.#gcPauses.push(entry.duration);
        if (this.#gcTimeline.length < TIMELINE_LIMIT) {
          this.#gcTimeline.push({ server: 0, at: performance.timeOrigin + entry.startTime, ms: entry.duration });
        }
        const { kind } = ((entry as PerformanceEntry & { detail?: unknown }).detail ?? {}) as { kind?: number };
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.#gcMajorPauses.push(entry.duration);
      }
    });
    this.#observer.observe({ entryTypes: ['gc'] });
    const threadSchedule = scheduleReader(schedstat);
    let lastTick = performance.now();
    let lastSchedule = threadSchedule();
    this.#timer = setInterval(() => {
      const now = performance.now();
      const schedule = threadSchedule();
      const late = now - lastTick - STALL_PERIOD_MS;
      if (late >= STALL_MS && this.#stalls.length < TIMELINE_LIMIT) {
        this.#stalls.push({
          server: 0,
          at: performance.timeOrigin + lastTick + STALL_PERIOD_MS,
          ms: late,
          ...stallSchedule(late, lastSchedule, schedule),
        });
      }
      lastTick = now;
      lastSchedule = schedule;
    }, STALL_PERIOD_MS);
    this.#timer.unref();
  }

  /** What was recorded since the last take (or the start), and a new window from now. */
  take(): LoopPauses {
    const at = performance.now();
    const taken: LoopPauses = {
      seconds: (at - this.#since) / 1000,
      gcPausesMs: this.#gcPauses,
      gcMajorPausesMs: this.#gcMajorPauses,
      gcTimeline: this.#gcTimeline,
      stalls: this.#stalls,
    };
    this.#gcPauses = [];
    this.#gcMajorPauses = [];
    this.#gcTimeline = [];
    this.#stalls = [];
    this.#since = at;
    return taken;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#observer.disconnect();
  }
}
