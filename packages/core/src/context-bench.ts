import { buildBrief } from './brief.ts';
import type { EventBody } from './events.ts';
import { prepareGuard } from './guard.ts';

/**
 * Micro-benchmarks of the context engine, pure so `baton bench` and the browser can call them: time per
 * brief at a given conversation length, and per guard draft once prepared (it runs on every keystroke).
 */

const CUSTOMER_LINES = [
  "Hi, I can't log in to my account",
  'My email is dana.reyes@example.com',
  'It still says the password is wrong',
  'My phone is (312) 555-0198 and zip 60614',
  "I already tried that twice, it's not working",
  'ok, thanks',
];
const AI_LINES = [
  "I'm sorry to hear that. What's the email on your account?",
  "Thanks. I've reset your password and sent you a link.",
  'Could you try logging in again?',
  'Let me check that for you.',
];

/** A plausible conversation of `length` events: messages, actions with results and errors, a handoff at the end. */
export function syntheticConversation(length: number): EventBody[] {
  const events: EventBody[] = [];
  for (let i = 0; events.length < length - 1; i++) {
    const turn = i % 5;
    if (turn === 0 || turn === 3) {
      events.push({ type: 'message', author: 'customer', text: CUSTOMER_LINES[i % CUSTOMER_LINES.length] ?? 'hi' });
    } else if (turn === 1 || turn === 4) {
      events.push({ type: 'message', author: 'ai', text: AI_LINES[i % AI_LINES.length] ?? 'ok' });
    } else if (i % 3 === 0) {
      events.push({
        type: 'action',
        name: 'check_login',
        actor: 'ai',
        outcome: 'failed',
        error: { system: 'auth', code: 'MFA_DEVICE_NOT_REGISTERED', message: 'no MFA device' },
      });
    } else {
      events.push({
        type: 'action',
        name: i % 2 ? 'reset_password' : 'lookup_account',
        actor: 'ai',
        outcome: 'succeeded',
        result: { account_id: 'AC-55812', email: 'dana.reyes@example.com' },
      });
    }
  }
  events.push({ type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] });
  return events;
}

export const BENCH_DRAFTS = [
  'Can you confirm your email address?',
  'Have you tried resetting your password?',
  'Let me start by getting some information from you.',
  'Let me check your two-step verification settings.',
  "Hi Dana, I can see you've been working on getting access to your account back. Let me check the settings.",
];

export interface ContextBenchResult {
  events: number;
  /** Mean milliseconds to build the brief. */
  briefMs: number;
  /** Mean milliseconds to prepare the guard for the conversation. */
  prepareGuardMs: number;
  /** Mean milliseconds to check one draft once prepared. */
  draftMs: number;
}

function mean(run: () => void, minMs: number, minRuns: number): number {
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  while (runs < minRuns || elapsed < minMs) {
    run();
    runs++;
    elapsed = performance.now() - start;
  }
  return elapsed / runs;
}

export function benchContextEngine(sizes: readonly number[] = [10, 100, 1000], minMs = 200): ContextBenchResult[] {
  return sizes.map((size) => {
    const events = syntheticConversation(size);
    const briefMs = mean(() => buildBrief(events), minMs, 3);
    const prepareGuardMs = mean(() => prepareGuard(events), minMs, 3);
    const guard = prepareGuard(events);
    let i = 0;
    const draftMs = mean(() => guard(BENCH_DRAFTS[i++ % BENCH_DRAFTS.length] ?? ''), minMs, 50);
    return { events: events.length, briefMs, prepareGuardMs, draftMs };
  });
}
