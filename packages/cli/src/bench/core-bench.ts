import { buildBrief, type EventBody, prepareGuard } from '@baton/core';
import { loadCustomerScripts } from './customer-scripts.ts';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.ts';

export interface CoreBenchResult {
  /** `buildBrief` on the whole log, by conversation length (events). */
  brief_ms: Record<string, LatencySummary>;
  /** `prepareGuard`: the once-per-conversation part (facts, steps, brief). */
  guard_prepare_ms: Record<string, LatencySummary>;
  /** A prepared guard judging one agent draft: what runs on every keystroke pause in the console. */
  guard_draft_ms: Record<string, LatencySummary>;
}

const AI_LINES = [
  'I can help with that. Could you give me your full name and email address?',
  'Thanks. Let me pull up your account.',
  'I have reset your password; you should receive an email shortly.',
  'I could not find that order. Could you check the order number?',
];
const DRAFTS = [
  'Hi, I can see you already verified your identity. Could you confirm your email address for me?',
  'Let me try resetting your password once more and check the order status.',
  "Thanks for waiting. I've read everything so far and I'm looking into the refund now.",
];

/**
 * A realistic log of `length` events: real customer lines, AI answers, back-office actions (some
 * failing), facts and an identity check, with the handoff last so the whole log is in the brief.
 */
export function syntheticConversation(length: number): EventBody[] {
  const scripts = loadCustomerScripts();
  const events: EventBody[] = [];
  let turn = 0;
  while (events.length < length - 1) {
    const script = scripts[turn % scripts.length]!;
    const line = script.lines[turn % script.lines.length]!;
    switch (turn % 6) {
      case 0:
      case 3:
        events.push({ type: 'message', author: 'customer', text: line });
        break;
      case 1:
        events.push({ type: 'message', author: 'ai', text: AI_LINES[turn % AI_LINES.length]! });
        break;
      case 2:
        events.push(
          turn % 12 === 2
            ? {
                type: 'action',
                name: 'reset_password',
                actor: 'ai',
                outcome: 'failed',
                error: { system: 'accounts', code: 'ACCOUNT_LOCKED', message: 'account locked after 3 attempts' },
              }
            : {
                type: 'action',
                name: 'lookup_order',
                actor: 'ai',
                outcome: 'succeeded',
                result: { status: 'shipped' },
              },
        );
        break;
      case 4:
        events.push({
          type: 'fact',
          name: turn % 12 === 4 ? 'email' : 'order_id',
          value: turn % 12 === 4 ? `customer${turn}@example.com` : String(2_000_000_000 + turn),
          source: events.length,
          via: 'extracted',
        });
        break;
      default:
        events.push({ type: 'identity', method: 'email_and_zip', result: turn % 2 ? 'verified' : 'failed' });
    }
    turn += 1;
  }
  events.push({
    type: 'handoff.requested',
    trigger: 'customer_request',
    reason: 'customer asked for a person',
    priority: 'normal',
    skills: [],
  });
  return events;
}

/** Times `task` for at least `minMs` and `minRuns` runs, after a warm-up, into a histogram. */
function time(task: () => unknown, minMs: number, minRuns: number): LatencySummary {
  for (let i = 0; i < 20; i++) task();
  const histogram = new LatencyHistogram();
  const until = performance.now() + minMs;
  let runs = 0;
  while (runs < minRuns || performance.now() < until) {
    const started = performance.now();
    task();
    histogram.recordMs(performance.now() - started);
    runs += 1;
  }
  return histogram.summary();
}

/** The core alone, in-process: pure functions, no I/O, so this is their cost and nothing else. */
export function runCoreBench(sizes: readonly number[] = [10, 100, 1000], minMs = 300): CoreBenchResult {
  const result: CoreBenchResult = { brief_ms: {}, guard_prepare_ms: {}, guard_draft_ms: {} };
  for (const size of sizes) {
    const events = syntheticConversation(size);
    result.brief_ms[size] = time(() => buildBrief(events), minMs, 30);
    result.guard_prepare_ms[size] = time(() => prepareGuard(events), minMs, 30);
    const guard = prepareGuard(events);
    let draft = 0;
    result.guard_draft_ms[size] = time(() => guard(DRAFTS[draft++ % DRAFTS.length]!), minMs, 100);
  }
  return result;
}
