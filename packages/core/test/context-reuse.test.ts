import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BENCH_DRAFTS, syntheticConversation } from '../src/context-bench.ts';
import {
  analyzeSentiment,
  briefReads,
  buildBrief,
  ContinuityGuard,
  type EventBody,
  extractFacts,
  FactTracker,
  prepareGuard,
  scoreCustomerMessages,
} from '../src/index.ts';

/** Fresh objects with the same content: what a server gets when it reads the log from the store again. */
function reloaded(events: readonly EventBody[]): EventBody[] {
  return events.map((event) => structuredClone(event));
}

describe('reusing work across calls gives the same answers as a fresh replay', () => {
  const events = syntheticConversation(300);

  it('a brief depends on its first briefReads events only: a customer writing while they wait changes nothing', () => {
    // Real conversations (the facts dev set, cut where a person was asked for), handed off, then the
    // customer keeps writing lines of other conversations while waiting: what the AI runtime reuses.
    const conversations = readFileSync(new URL('fixtures/dev/facts-abcd.jsonl', import.meta.url), 'utf8')
      .trim()
      .split('\n')
      .slice(0, 40)
      .map((line) => JSON.parse(line) as { industry: string; events: EventBody[] });
    const chatter = conversations
      .flatMap((conversation) => conversation.events)
      .filter((event) => event.type === 'message' && event.author === 'customer');
    let compared = 0;
    for (const [index, conversation] of conversations.entries()) {
      const handedOff: EventBody[] = [
        ...conversation.events,
        { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] },
      ];
      const options = { industry: conversation.industry };
      const reads = briefReads(handedOff, options);
      expect(reads).toBe(handedOff.length);
      const atHandoff = buildBrief(handedOff, options);
      const waiting = [...handedOff, ...chatter.slice(index * 3, index * 3 + 6)];
      for (let length = reads; length <= waiting.length; length += 1) {
        const grown = reloaded(waiting.slice(0, length));
        expect(briefReads(grown, options)).toBe(reads);
        expect(buildBrief(grown, options)).toEqual(atHandoff);
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(200);
    // Without a handoff the brief reads the whole log, so every new event is read.
    expect(briefReads(events)).toBe(events.length);
  });

  it('prepareGuard after a brief of the same log finds what a guard fed one event at a time finds', () => {
    buildBrief(events.slice(0, 120));
    buildBrief(events);
    const reused = prepareGuard(events);
    const fresh = new ContinuityGuard();
    for (const event of reloaded(events)) fresh.push(event);
    for (const draft of BENCH_DRAFTS) expect(reused(draft)).toEqual(fresh.check(draft));
    expect(reused(BENCH_DRAFTS[0] ?? '').length).toBeGreaterThan(0);
  });

  it('facts of a grown log equal a tracker that saw every event', () => {
    extractFacts(events.slice(0, 50));
    const grown = extractFacts(events);
    const tracker = new FactTracker();
    for (const event of reloaded(events)) tracker.push(event);
    expect(grown).toEqual(tracker.facts());
    expect(grown.length).toBeGreaterThan(0);
  });

  it('a log read again as fresh objects reuses the replay only where its content is the same', () => {
    const log = syntheticConversation(60);
    const before = extractFacts(log);
    expect(extractFacts(reloaded(log))).toEqual(before);
    // The same log masked for another viewer: same positions, other content, other facts.
    const masked = reloaded(log).map((event) =>
      event.type === 'message' && event.text.includes('dana.reyes@example.com')
        ? { ...event, text: event.text.replace('dana.reyes@example.com', 'other.person@example.org') }
        : event,
    );
    const emailOf = (facts: ReturnType<typeof extractFacts>) => facts.find((fact) => fact.name === 'email')?.value;
    expect(emailOf(before)).toBe('dana.reyes@example.com');
    expect(emailOf(extractFacts(masked))).toBe('other.person@example.org');
    expect(emailOf(extractFacts(reloaded(log)))).toBe('dana.reyes@example.com');
  });

  it('many conversations read in turn, each one event longer each time, get the facts of a full replay', () => {
    const logs = Array.from({ length: 20 }, (_, n) =>
      syntheticConversation(40).map((event, i) => ({
        ...(n % 2 && event.type === 'message' && event.author === 'customer'
          ? { ...event, text: event.text.replace('60614', `6061${n % 10}`) }
          : event),
        conversationId: `c${n}`,
        seq: i + 1,
        at: '2026-01-01T00:00:00Z',
      })),
    );
    for (let length = 30; length <= 40; length += 1) {
      for (const log of logs) {
        const read = reloaded(log.slice(0, length) as EventBody[]);
        const tracker = new FactTracker();
        for (const event of read) tracker.push(event);
        expect(extractFacts(read)).toEqual(tracker.facts());
      }
    }
  });

  it('sentiment reads the last window of customer messages, as scoring them all would', () => {
    const all = scoreCustomerMessages(events).slice(-4);
    const sentiment = analyzeSentiment(events);
    expect(sentiment.frustration).toBe(all[all.length - 1]?.frustration);
    expect(sentiment.evidence.map((item) => item.source)).toEqual(
      all
        .filter((message) => message.cues.length > 0)
        .slice(-3)
        .map((message) => message.source),
    );
    expect(analyzeSentiment(events, { window: 0 })).toEqual(analyzeSentiment(events, { window: 10_000 }));
  });
});
