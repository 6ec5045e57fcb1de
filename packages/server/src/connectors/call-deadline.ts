/** What one call to a back office (a tool, an HTTP endpoint) runs under; `release` it when the call is done. */
export interface CallDeadline {
  signal: AbortSignal;
  /** Whether the signal fired because the time was up (not because the turn was aborted). */
  readonly timedOut: boolean;
  release(): void;
}

/**
 * The signal one back-office call runs under: aborted with the turn's signal (the caller's), or when `ms`
 * have passed. Built by hand rather than `AbortSignal.any([turn, AbortSignal.timeout(ms)])`, whose parts
 * outlive the call: the timeout's timer stays armed for its whole delay (a tool's is 10 s), and `any` links
 * the signals through WeakRefs, which V8's young-generation collections keep alive. Every call's signals,
 * and its turn's, were copied out of the young generation and promoted (the turn's signal alone was 4.7% of
 * the bytes promoted under the bench's load), to be collected only by a full GC (Node's own reports:
 * nodejs/node#55351, and #62367 for the timeouts' bookkeeping). 20,000 calls in a loop took 134 ms of GC
 * with `any` + `timeout`, 42 ms with this. `release` (when the call is done) clears the timer and unlinks
 * the turn, so all of it dies young.
 */
export function callDeadline(turn: AbortSignal, ms: number): CallDeadline {
  const controller = new AbortController();
  let timedOut = false;
  const onTurnAborted = () => controller.abort(turn.reason);
  if (turn.aborted) onTurnAborted();
  else turn.addEventListener('abort', onTurnAborted, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
  }, ms);
  timer.unref();
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    release() {
      clearTimeout(timer);
      turn.removeEventListener('abort', onTurnAborted);
    },
  };
}
