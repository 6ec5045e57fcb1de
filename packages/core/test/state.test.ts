import { describe, expect, it } from 'vitest';
import { canSpeak, EventBody, reduceAll, Transcript } from '../src/index.ts';

describe('reduce', () => {
  it('moves ownership only through handoff events', () => {
    const events = [
      { type: 'message', author: 'customer', text: 'hi' },
      { type: 'handoff.requested', trigger: 'customer_request' },
      { type: 'handoff.offered', agentId: 'a1' },
      { type: 'handoff.accepted', agentId: 'a1', agentName: 'Sam' },
    ].map((e) => EventBody.parse(e));
    const state = reduceAll(events);
    expect(state.owner).toEqual({ kind: 'agent', id: 'a1', name: 'Sam' });
    expect(state.status).toBe('assigned');
    expect(canSpeak(state, { kind: 'ai' })).toBe(false);
    expect(canSpeak(state, { kind: 'agent', id: 'a1' })).toBe(true);
    expect(canSpeak(state, { kind: 'agent', id: 'a2' })).toBe(false);
    const back = reduceAll([EventBody.parse({ type: 'handoff.returned', fromAgentId: 'a1' })], state);
    expect(back.owner).toEqual({ kind: 'ai' });
    expect(canSpeak(back, { kind: 'ai' })).toBe(true);
  });

  it('keeps where the customer last wrote, which staff messages and notes do not move', () => {
    const events = [
      { type: 'message', author: 'customer', text: 'my order never came' },
      { type: 'message', author: 'ai', text: 'Let me check.' },
      { type: 'message', author: 'customer', text: 'it was order 1234' },
      { type: 'message', author: 'agent', text: 'Found it.' },
      { type: 'note', text: 'courier delay' },
    ].map((e) => EventBody.parse(e));
    expect(reduceAll([]).lastCustomerMessageSeq).toBeUndefined();
    expect(reduceAll(events).lastCustomerMessageSeq).toBe(3);
  });

  it('accepts the short transcript form of a handoff', () => {
    const t = Transcript.parse({ id: 'x', events: [{ type: 'handoff', trigger: 'policy' }] });
    expect(t.events[0]?.type).toBe('handoff.requested');
  });

  it('rejects an empty message', () => {
    expect(EventBody.safeParse({ type: 'message', author: 'customer', text: '  ' }).success).toBe(false);
  });
});
