import { describe, expect, it } from 'vitest';
import { aggregateMetrics, type EventBody, HandoffMetrics, handoffMetrics, type StoredEvent } from '../src/index.ts';
import { scenario } from './scenario-fixtures.ts';

function stored(events: readonly EventBody[], start: string, stepSeconds: number[]): StoredEvent[] {
  let at = Date.parse(start);
  return events.map((event, index) => {
    at += (stepSeconds[index] ?? 1) * 1000;
    return { ...event, conversationId: 'c1', seq: index + 1, at: new Date(at).toISOString() } as StoredEvent;
  });
}

describe('handoffMetrics', () => {
  it('S1/S5 as a transcript: counts the guard findings, times are null without timestamps', () => {
    const metrics = handoffMetrics(scenario('S1-S5').events);
    expect(HandoffMetrics.parse(metrics)).toEqual(metrics);
    expect(metrics).toMatchObject({
      handedOff: true,
      handoffIndex: 13,
      trigger: 'customer_request',
      timeToAcceptMs: null,
      timeToFirstAgentMessageMs: null,
      agentMessages: 4,
      cleanAgentMessages: 1,
      repeatAsks: 1,
      repeatActions: 1,
      restartPhrases: 1,
      customerRestatements: 0,
    });
  });

  it('times from the trigger to acceptance and to the first agent message, from stored events', () => {
    const events: EventBody[] = [
      { type: 'message', author: 'customer', text: 'My order A10493 never arrived' },
      { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] },
      { type: 'handoff.queued', queue: 'general' },
      { type: 'handoff.accepted', agentId: 'a1' },
      { type: 'message', author: 'agent', text: 'Hi, I can see your order A10493. Let me look into it.' },
    ];
    // 1 s, then handoff at +1 s, queued +5 s, accepted +25 s, first message +10 s
    const metrics = handoffMetrics(stored(events, '2026-01-01T10:00:00Z', [1, 1, 5, 25, 10]));
    expect(metrics.timeToAcceptMs).toBe(30_000);
    expect(metrics.timeToFirstAgentMessageMs).toBe(40_000);
  });

  it('counts a customer restating, after the handoff, a fact given before it', () => {
    const events: EventBody[] = [
      { type: 'message', author: 'customer', text: 'Where is my order A10493?' },
      { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] },
      { type: 'message', author: 'agent', text: "What's your order number?" },
      { type: 'message', author: 'customer', text: 'A10493, like I said' },
      { type: 'message', author: 'agent', text: 'And your email?' },
      { type: 'message', author: 'customer', text: 'sam@example.com' },
    ];
    const metrics = handoffMetrics(events);
    expect(metrics.repeatAsks).toBe(1);
    expect(metrics.customerRestatements).toBe(1);
  });

  it('without a handoff there is nothing to measure', () => {
    const metrics = handoffMetrics([{ type: 'message', author: 'customer', text: 'hi' }]);
    expect(metrics).toMatchObject({ handedOff: false, handoffIndex: null, agentMessages: 0, repeatAsks: 0 });
  });

  it('aggregates over conversations', () => {
    const all = ['S1-S5', 'S2', 'S3', 'S4'].map((id) => handoffMetrics(scenario(id).events));
    const total = aggregateMetrics(all);
    expect(total).toMatchObject({ conversations: 4, handedOff: 4, restartPhrases: 3 });
    expect(total.repeatAsks).toBe(all.reduce((sum, item) => sum + item.repeatAsks, 0));
    expect(total.timeToAcceptMs.median).toBeNull();
    expect(total.conversationsWithRepeats).toBe(4);
  });
});
