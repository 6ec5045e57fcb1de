import type { StoredEvent } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { throughAppended } from '../src/app/agent-brief.ts';

const event = (seq: number): StoredEvent =>
  ({
    id: `e${seq}`,
    conversationId: 'c1',
    seq,
    at: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString(),
    actor: { kind: 'customer' },
    type: 'message',
    author: 'customer',
    text: `message ${seq}`,
  }) as unknown as StoredEvent;
const seqs = (events: readonly StoredEvent[] | undefined) => events?.map((item) => item.seq);

describe('a log read alongside the offer it is for', () => {
  it('is brought up to the offer when it was read before it, and kept when it was read after', () => {
    const read = [event(1), event(2), event(3)];
    expect(seqs(throughAppended(read, [event(4), event(5)]))).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(throughAppended([...read, event(4), event(5), event(6)], [event(4), event(5)]))).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(seqs(throughAppended([], [event(1)]))).toEqual([1]);
  });

  it('asks for a read again when someone else wrote between the read and the offer', () => {
    expect(throughAppended([event(1), event(2)], [event(4), event(5)])).toBeUndefined();
  });
});
