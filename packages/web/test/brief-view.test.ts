import type { EventBody, StoredEvent } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { buildBriefView } from '../src/console/brief-view.ts';

function stored(bodies: EventBody[]): StoredEvent[] {
  return bodies.map((body, index) => ({
    ...body,
    conversationId: 'c1',
    seq: index + 1,
    at: new Date(Date.UTC(2026, 10, 25, 12, 0, index)).toISOString(),
  }));
}

const log = stored([
  { type: 'message', author: 'customer', text: 'Where is my order A10493? It says delivered but I never got it.' },
  {
    type: 'action',
    name: 'track_shipment',
    actor: 'ai',
    outcome: 'succeeded',
    result: {
      order_id: 'A10493',
      events: [{ description: 'Delivered, left at front door', when: '2 days ago', at: '2026-11-23T10:00:00Z' }],
    },
  },
  { type: 'handoff.requested', trigger: 'policy', priority: 'normal', skills: ['refunds'], reason: 'refund' },
  { type: 'handoff.accepted', agentId: 'agent_alex', agentName: 'Alex Chen' },
  { type: 'message', author: 'agent', authorId: 'agent_alex', authorName: 'Alex Chen', text: 'Checking with UPS.' },
  { type: 'note', authorId: 'agent_alex', authorName: 'Alex Chen', text: 'UPS claim opened.' },
  { type: 'handoff.transferred', fromAgentId: 'agent_alex', queue: 'billing', skills: [], note: 'Check the charge.' },
  { type: 'handoff.accepted', agentId: 'agent_sam', agentName: 'Sam Rivera' },
]);

describe('console brief view (S2, S6)', () => {
  it('shows what the result said, the notes with their authors and what the first agent did', () => {
    const view = buildBriefView(log, 'Jordan Blake');
    expect(view.steps[0]).toMatchObject({ seq: 2, name: 'track_shipment' });
    expect(view.steps[0]?.details).toContain('  Delivered, left at front door (2 days ago)');
    expect(view.notes).toEqual([
      { seq: 6, author: 'Alex Chen', text: 'UPS claim opened.' },
      { seq: 7, author: 'Transfer note from Alex Chen', text: 'Check the charge.' },
    ]);
    expect(view.previousAgents).toEqual([
      {
        agentId: 'agent_alex',
        name: 'Alex Chen',
        ended: 'transferred',
        messages: 1,
        lastMessage: { text: 'Checking with UPS.', seq: 5 },
        actions: [],
      },
    ]);
    expect(view.queue).toBe('billing');
  });

  it('before a transfer there is no one before you', () => {
    const view = buildBriefView(log.slice(0, 5), 'Jordan Blake');
    expect(view.previousAgents).toEqual([]);
    expect(view.notes).toEqual([]);
  });
});
