import { describe, expect, it } from 'vitest';
import { EventBody, StoredEvent } from '../src/events.ts';

const place = { conversationId: 'c_1', seq: 3, at: '2026-01-01T00:00:00.000Z' };

describe('StoredEvent', () => {
  it('is a body of any type with its place in the log, stored fields first, unknown keys dropped', () => {
    const bodies = [
      { type: 'message', author: 'customer', text: 'my order never came' },
      { type: 'handoff.offered', agentId: 'a_1', expiresAt: '2026-01-01T00:00:30.000Z' },
      { type: 'note', text: 'called the courier' },
    ];
    for (const body of bodies) {
      const parsed = StoredEvent.parse({ ...body, ...place, extra: 'not ours' });
      expect(parsed).toEqual({ ...place, ...EventBody.parse(body) });
      expect(Object.keys(parsed).slice(0, 3)).toEqual(['conversationId', 'seq', 'at']);
      expect(parsed).not.toHaveProperty('extra');
    }
  });

  it('refuses a body without its place, a bad place, or a bad body', () => {
    const body = { type: 'message', author: 'customer', text: 'hello' };
    expect(StoredEvent.safeParse(body).success).toBe(false);
    expect(StoredEvent.safeParse({ ...body, ...place, seq: 0 }).success).toBe(false);
    expect(StoredEvent.safeParse({ ...body, ...place, conversationId: '' }).success).toBe(false);
    expect(StoredEvent.safeParse({ ...place, type: 'message', author: 'nobody', text: 'hello' }).success).toBe(false);
    expect(StoredEvent.safeParse({ ...place, type: 'no.such.type' }).success).toBe(false);
  });
});
