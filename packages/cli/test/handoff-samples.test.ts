import { describe, expect, it } from 'vitest';
import type { BatonResult } from '../src/bench/bench-protocol.ts';
import {
  type HandoffSample,
  handoffAnatomy,
  type LoggedEvent,
  matchHandoffs,
  slowestHandoffs,
} from '../src/bench/handoff-samples.ts';

/** What one load process reported, as far as the pairing reads it. */
function result(part: Partial<Pick<BatonResult, 'triggers' | 'offers' | 'waitedForAgent'>>): BatonResult {
  return { triggers: [], offers: [], waitedForAgent: [], ...part } as unknown as BatonResult;
}

const offer = (conversationId: string, at: number, briefAt?: number) => ({
  conversationId,
  at,
  agentEmail: 'a@bench.test',
  briefInOffer: briefAt === undefined,
  ...(briefAt !== undefined ? { briefAt } : {}),
});

describe('pairing triggers with offers', () => {
  it('pairs across load processes, the first trigger and the first offer of each conversation', () => {
    const { samples, lost, otherOffers } = matchHandoffs([
      result({
        triggers: [
          { conversationId: 'c1', at: 1000 },
          { conversationId: 'c1', at: 1500 },
          { conversationId: 'c2', at: 2000 },
          { conversationId: 'c3', at: 3000 },
        ],
        waitedForAgent: ['c2'],
      }),
      result({ offers: [offer('c1', 1010), offer('c1', 1005), offer('c2', 2400), offer('c9', 50)] }),
    ]);
    expect(lost).toBe(1);
    expect(otherOffers).toBe(1);
    expect(samples).toEqual([
      { conversationId: 'c1', triggerAt: 1000, offerAt: 1005, briefAt: undefined, waited: false },
      { conversationId: 'c2', triggerAt: 2000, offerAt: 2400, briefAt: undefined, waited: true },
    ]);
  });

  it('ranks the slowest by the time to the brief: the offer when it carries it, else the fetch after it', () => {
    const samples: HandoffSample[] = [
      { conversationId: 'fast', triggerAt: 0, offerAt: 5, briefAt: 40, waited: false },
      { conversationId: 'slow', triggerAt: 0, offerAt: 30, briefAt: 31, waited: false },
      { conversationId: 'never', triggerAt: 0, offerAt: 10, briefAt: undefined, waited: false },
    ];
    expect(slowestHandoffs(samples, false, 2).map((s) => s.conversationId)).toEqual(['slow', 'never']);
    expect(slowestHandoffs(samples, true, 5).map((s) => s.conversationId)).toEqual(['fast', 'slow']);
  });
});

describe('the anatomy of a handoff', () => {
  const t0 = Date.parse('2026-11-27T06:00:00.000Z');
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  const log: LoggedEvent[] = [
    { seq: 1, type: 'message', author: 'customer', at: at(-9000) },
    { seq: 2, type: 'message', author: 'ai', at: at(-8990) },
    { seq: 3, type: 'message', author: 'customer', at: at(2) },
    { seq: 4, type: 'message', author: 'ai', at: at(3) },
    { seq: 5, type: 'handoff.requested', at: at(3) },
    { seq: 6, type: 'handoff.queued', at: at(25) },
    { seq: 7, type: 'handoff.offered', at: at(25) },
  ];
  const sample: HandoffSample = {
    conversationId: 'c1',
    triggerAt: t0 + 0.4,
    offerAt: t0 + 27.9,
    briefAt: undefined,
    waited: false,
  };

  it('says which stage took the time: here the routing', () => {
    expect(handoffAnatomy(sample, false, log)).toEqual({
      conversation_id: 'c1',
      ms: 27.5,
      sent_to_stored_ms: 1.6,
      ai_turn_ms: 1,
      routing_ms: 22,
      offer_to_agent_ms: 2.9,
    });
  });

  it('reads an earlier handoff of the same conversation as not this one', () => {
    const earlier: LoggedEvent[] = [
      { seq: 1, type: 'message', author: 'customer', at: at(-5000) },
      { seq: 2, type: 'handoff.requested', at: at(-4999) },
      { seq: 3, type: 'handoff.offered', at: at(-4990) },
      ...log.slice(2).map((event) => ({ ...event, seq: event.seq + 1 })),
    ];
    expect(handoffAnatomy(sample, false, earlier)?.routing_ms).toBe(22);
  });

  it('gives nothing when the log does not show the handoff or the brief never came', () => {
    expect(handoffAnatomy(sample, false, log.slice(0, 4))).toBeUndefined();
    expect(handoffAnatomy(sample, false, log.slice(0, 6))).toBeUndefined();
    expect(handoffAnatomy(sample, true, log)).toBeUndefined();
  });
});
