/**
 * Times the context engine the way a server calls it, beside scripts/bench-context.ts (which rebuilds the same
 * array and so measures the warm path): (1) a log read again from the store for each request, as fresh
 * objects, one event longer each time; (2) the first read of logs whose every message is new text, where
 * nothing can be reused. Machines are noisy: run it several times and compare medians.
 */
import { buildBrief } from '../packages/core/src/brief.ts';
import { syntheticConversation } from '../packages/core/src/context-bench.ts';
import type { EventBody } from '../packages/core/src/events.ts';
import { prepareGuard } from '../packages/core/src/guard.ts';

const SIZES = [10, 100, 1000];

function perCall(inputs: readonly EventBody[][], run: (events: EventBody[]) => unknown): number {
  const start = performance.now();
  for (const events of inputs) run(events);
  return (performance.now() - start) / inputs.length;
}

function line(label: string, size: number, briefMs: number, guardMs: number): string {
  return `${label} events=${String(size).padStart(5)}  brief ${briefMs.toFixed(3)} ms  prepare guard ${guardMs.toFixed(3)} ms`;
}

// (1) Re-read and grown: what the brief route and the AI runtime do on every request.
for (const size of SIZES) {
  const base = syntheticConversation(size + 40);
  const reads = () =>
    Array.from({ length: 40 }, (_, k) => base.slice(0, size + k).map((event) => structuredClone(event)));
  const briefMs = perCall(reads(), (events) => buildBrief(events, { upTo: events.length }));
  const guardMs = perCall(reads(), (events) => prepareGuard(events));
  console.log(line('re-read, grown ', size, briefMs, guardMs));
}

// (2) First read, every message new: the cost of extraction itself.
let salt = Math.floor(Math.random() * 1e6);
const word = (n: number): string => {
  let out = '';
  let rest = n;
  do {
    out += String.fromCharCode(97 + (rest % 26));
    rest = Math.floor(rest / 26);
  } while (rest > 0);
  return out;
};
const unseen = (size: number): EventBody[] =>
  syntheticConversation(size).map((event) =>
    event.type === 'message' ? { ...event, text: `${event.text} ${word(salt++)}` } : structuredClone(event),
  );
for (const size of SIZES) {
  const count = size >= 1000 ? 15 : 100;
  const briefMs = perCall(
    Array.from({ length: count }, () => unseen(size)),
    (events) => buildBrief(events),
  );
  const guardMs = perCall(
    Array.from({ length: count }, () => unseen(size)),
    (events) => prepareGuard(events),
  );
  console.log(line('first read, new', size, briefMs, guardMs));
}
