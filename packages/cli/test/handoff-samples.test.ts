import { describe, expect, it } from 'vitest';
import type { BatonResult } from '../src/bench/bench-protocol.ts';
import {
  type HandoffSample,
  handoffAnatomy,
  handoffStages,
  type LoggedEvent,
  matchHandoffs,
  slowestHandoffs,
  stallSchedule,
  stallsWithin,
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
      {
        conversationId: 'c1',
        triggerAt: 1000,
        offerAt: 1005,
        briefAt: undefined,
        waited: false,
        loadProcesses: [0, 1],
      },
      { conversationId: 'c2', triggerAt: 2000, offerAt: 2400, briefAt: undefined, waited: true, loadProcesses: [0, 1] },
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
      server_stalls: null,
      client_stalls: null,
    });
  });

  it("lays the servers' and the load processes' stalls beside it, each on its own", () => {
    const server = { stalls: [{ server: 0, at: t0 + 5, ms: 6, ranMs: 6, waitedMs: 0 }], gcTimeline: [] };
    // The agent's load process stood still 8 ms before the offer reached it, 4 of them a GC pause.
    const clients = {
      stalls: [{ server: 1, at: t0 + 18, ms: 8, ranMs: 3, waitedMs: 5 }],
      gcTimeline: [{ server: 1, at: t0 + 20, ms: 4 }],
    };
    const anatomy = handoffAnatomy(sample, false, log, server, clients);
    expect(anatomy?.server_stalls).toEqual({ ms: 6, ran_ms: 6, waited_ms: 0, blocked_ms: 0, gc_ms: 0 });
    expect(anatomy?.client_stalls).toEqual({ ms: 8, ran_ms: 3, waited_ms: 5, blocked_ms: 0, gc_ms: 4 });
    // Only the processes the handoff went through count: here the customer's and the agent's are 0 and 2.
    const elsewhere = handoffAnatomy({ ...sample, loadProcesses: [0, 2] }, false, log, server, clients);
    expect(elsewhere?.client_stalls).toEqual({ ms: 0, ran_ms: 0, waited_ms: 0, blocked_ms: 0, gc_ms: 0 });
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

describe('the stages over all handoffs', () => {
  const anatomy = (ms: number, stages: [number, number, number, number]) => ({
    conversation_id: `c${ms}`,
    ms,
    sent_to_stored_ms: stages[0],
    ai_turn_ms: stages[1],
    routing_ms: stages[2],
    offer_to_agent_ms: stages[3],
    server_stalls: null,
    client_stalls: null,
  });

  it('gives each stage its own p50, p90, p99 and max, by nearest rank', () => {
    // 100 handoffs: the routing stage is 1..100 ms, the others constant but for one slow AI turn.
    const anatomies = Array.from({ length: 100 }, (_, i) => anatomy(i + 10, [2, i === 42 ? 30 : 1, 100 - i, 0.5]));
    const stages = handoffStages(anatomies);
    expect(stages.count).toBe(100);
    expect(stages.routing_ms).toEqual({ p50: 50, p90: 90, p99: 99, max: 100 });
    expect(stages.ai_turn_ms).toEqual({ p50: 1, p90: 1, p99: 1, max: 30 });
    expect(stages.sent_to_stored_ms).toEqual({ p50: 2, p90: 2, p99: 2, max: 2 });
    expect(stages.offer_to_agent_ms.max).toBe(0.5);
  });

  it('says zero for every figure when no handoff was taken apart', () => {
    expect(handoffStages([])).toEqual({
      count: 0,
      sent_to_stored_ms: { p50: 0, p90: 0, p99: 0, max: 0 },
      ai_turn_ms: { p50: 0, p90: 0, p99: 0, max: 0 },
      routing_ms: { p50: 0, p90: 0, p99: 0, max: 0 },
      offer_to_agent_ms: { p50: 0, p90: 0, p99: 0, max: 0 },
    });
  });
});

describe('the server stalls inside a handoff', () => {
  const stall = (server: number, at: number, ms: number, ranMs: number | null, waitedMs: number | null) => ({
    server,
    at,
    ms,
    ranMs,
    waitedMs,
  });

  it('counts only the part of each stall inside the handoff, on the server that stood still longest', () => {
    const pauses = {
      stalls: [
        stall(0, 990, 20, 10, 10), // 10 ms inside: half its time, so half of what it ran and waited
        stall(0, 1030, 8, 4, 0), // all inside: 4 ran, 0 waited, 4 blocked
        stall(0, 1200, 50, 50, 0), // after the handoff
        stall(1, 1000, 12, 12, 0), // the other server, less
      ],
      gcTimeline: [
        { server: 0, at: 1032, ms: 3 },
        { server: 0, at: 1098, ms: 5 }, // 2 ms inside
        { server: 1, at: 1001, ms: 10 },
      ],
    };
    expect(stallsWithin(1000, 1100, pauses)).toEqual({
      ms: 18,
      ran_ms: 9,
      waited_ms: 5,
      blocked_ms: 4,
      gc_ms: 5,
    });
  });

  it('says nothing of the schedule where it could not be read, and null without a timeline', () => {
    const pauses = { stalls: [stall(0, 1000, 10, null, null)], gcTimeline: [] };
    expect(stallsWithin(1000, 1100, pauses)).toEqual({
      ms: 10,
      ran_ms: null,
      waited_ms: null,
      blocked_ms: null,
      gc_ms: 0,
    });
    expect(stallsWithin(1000, 1100, { stalls: [], gcTimeline: [] })?.ms).toBe(0);
    expect(stallsWithin(1000, 1100, undefined)).toBeNull();
  });

  it("lays what the thread ran, then waited, in the late part of the timer's period", () => {
    // 12 ms late over a 22 ms period in which the thread ran 8 ms and waited 9: 8 ran, 4 waited, 0 blocked.
    expect(stallSchedule(12, { ranMs: 100, waitedMs: 50 }, { ranMs: 108, waitedMs: 59 })).toEqual({
      ranMs: 8,
      waitedMs: 4,
    });
    // A long task longer than the lateness: all of it ran.
    expect(stallSchedule(5, { ranMs: 0, waitedMs: 0 }, { ranMs: 14, waitedMs: 1 })).toEqual({ ranMs: 5, waitedMs: 0 });
    expect(stallSchedule(5, undefined, { ranMs: 14, waitedMs: 1 })).toEqual({ ranMs: null, waitedMs: null });
  });
});
