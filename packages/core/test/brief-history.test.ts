import { describe, expect, it } from 'vitest';
import { Brief, buildBrief, type EventBody, renderBrief, resultDetails } from '../src/index.ts';

/** S2 as the demo shop's connector writes it: find the order, track it, a refund blocked by the AI limit. */
const S2: EventBody[] = [
  { type: 'message', author: 'customer', text: 'Where is my order A10493? It says delivered but I never got it.' },
  {
    type: 'action',
    name: 'find_order',
    actor: 'ai',
    input: { order_id: 'A10493' },
    outcome: 'succeeded',
    result: {
      order_id: 'A10493',
      customer_name: 'Jordan Blake',
      items: [
        { name: 'Trail running shoes', quantity: 1, price: 129.0 },
        { name: 'Merino socks', quantity: 2, price: 27.6 },
      ],
      item_count: 3,
      total: 184.2,
      currency: 'USD',
      shipping_address: '1842 W Wabansia Ave, Chicago, IL 60622',
      carrier: 'UPS',
    },
  },
  {
    type: 'action',
    name: 'track_shipment',
    actor: 'ai',
    input: { order_id: 'A10493' },
    outcome: 'succeeded',
    result: {
      order_id: 'A10493',
      carrier: 'UPS',
      tracking_number: '1Z999AA10123456784',
      status: 'delivered',
      summary: 'Delivered, left at front door, 2 days ago',
      events: [
        { at: '2026-11-20T10:00:00.000Z', status: 'shipped', description: 'Shipped', when: '5 days ago' },
        { at: '2026-11-22T10:00:00.000Z', status: 'in_transit', description: 'In transit', when: '3 days ago' },
        {
          at: '2026-11-23T10:00:00.000Z',
          status: 'delivered',
          description: 'Delivered, left at front door',
          when: '2 days ago',
        },
      ],
    },
  },
  {
    type: 'action',
    name: 'check_refund_eligibility',
    actor: 'ai',
    input: { order_id: 'A10493' },
    outcome: 'blocked',
    result: { order_id: 'A10493', amount: 184.2, limit: 100, currency: 'USD', eligible_with_approval: true },
    error: {
      system: 'refunds',
      code: 'REFUND_LIMIT',
      message: 'Refund above AI limit: $184.20 is over the $100.00 self-service limit, a person must approve it.',
    },
  },
  {
    type: 'handoff.requested',
    trigger: 'policy',
    reason: 'refund above AI limit',
    priority: 'normal',
    skills: ['refunds'],
  },
];

/** S6: Alex takes S2, writes a note and a message, reships, and transfers to billing with a note. */
const S6: EventBody[] = [
  ...S2,
  { type: 'handoff.queued', queue: 'refunds' },
  { type: 'handoff.offered', agentId: 'agent_alex', agentName: 'Alex Chen' },
  { type: 'handoff.accepted', agentId: 'agent_alex', agentName: 'Alex Chen' },
  {
    type: 'message',
    author: 'agent',
    authorId: 'agent_alex',
    authorName: 'Alex Chen',
    text: 'Hi Jordan, I can see the carrier marked it delivered. Let me sort this out.',
  },
  {
    type: 'action',
    name: 'reship_order',
    actor: 'agent',
    actorId: 'agent_alex',
    outcome: 'succeeded',
    result: { order_id: 'A10493', reship_order_id: 'A10493-R1', ship_to: '1842 W Wabansia Ave' },
  },
  {
    type: 'note',
    authorId: 'agent_alex',
    authorName: 'Alex Chen',
    text: 'Reshipped; customer also asks about a double charge on the card.',
  },
  {
    type: 'message',
    author: 'agent',
    authorId: 'agent_alex',
    authorName: 'Alex Chen',
    text: "A replacement is on its way. I'm passing you to billing for the charge.",
  },
  {
    type: 'handoff.transferred',
    fromAgentId: 'agent_alex',
    queue: 'billing',
    skills: ['billing'],
    note: 'Double charge of $184.20 on Nov 18, please check.',
  },
  { type: 'handoff.queued', queue: 'billing' },
  { type: 'handoff.accepted', agentId: 'agent_sam', agentName: 'Sam Rivera' },
];

describe('brief: what a back-office result says (S2)', () => {
  it('a step carries the order, the tracking events and the rule that blocked the AI', () => {
    const brief = buildBrief(S2);
    expect(Brief.parse(brief)).toEqual(brief);
    const [order, tracking, refund] = brief.steps;
    expect(order?.details).toEqual(
      expect.arrayContaining([
        'order id: A10493',
        'item count: 3',
        'total: 184.2 USD',
        expect.stringMatching(/^items/),
      ]),
    );
    expect(order?.details).toContain('  2 × Merino socks');
    expect(order?.details).toContain('shipping address: 1842 W Wabansia Ave, Chicago, IL 60622');
    // Newest first: what the carrier says now leads.
    const events = tracking?.details ?? [];
    expect(events).toContain('events:');
    expect(events[events.indexOf('events:') + 1]).toBe('  Delivered, left at front door (2 days ago)');
    expect(events).toContain('summary: Delivered, left at front door, 2 days ago');
    expect(refund).toMatchObject({ outcome: 'blocked' });
    expect(refund?.summary).toMatch(/refund above AI limit/i);
    expect(refund?.details).toEqual(expect.arrayContaining(['limit: 100 USD', 'amount: 184.2 USD']));
    expect(renderBrief(brief)).toContain('    limit: 100 USD');
  });

  it('skips secrets, tokens and blobs; a step without a result has no details', () => {
    expect(
      resultDetails({
        member_id: '55021',
        code: '482913',
        session_token: 'abc.def.ghi',
        password: 'hunter2',
        note: 'card 4111 1111 1111 1111 on file',
        blob: { a: { deep: { nested: 1 } } },
        reset_link_sent_to: 'd***@example.com',
      }),
    ).toEqual(['member id: 55021', 'reset link sent to: d***@example.com']);
    const brief = buildBrief([{ type: 'action', name: 'reset_password', actor: 'ai', outcome: 'succeeded' }]);
    expect(brief.steps[0]).not.toHaveProperty('details');
  });

  it('a long list is clipped to the newest few with a count of the rest', () => {
    const events = Array.from({ length: 9 }, (_, index) => ({
      description: `Scan ${index + 1}`,
      when: `day ${index}`,
    }));
    const details = resultDetails({ events });
    expect(details[0]).toBe('events (+4 more):');
    expect(details[1]).toBe('  Scan 9 (day 8)');
    expect(details).toHaveLength(6);
  });
});

describe('brief after a transfer between humans (S6)', () => {
  it('the second agent sees the same brief plus the notes and what the first agent did', () => {
    const first = buildBrief(S6);
    const second = buildBrief(S6, { through: S6.length });
    expect(Brief.parse(second)).toEqual(second);
    // Same brief of the handoff: the reason, steps and opening line do not move.
    const { notes, previousAgents, ...same } = second;
    expect(same).toEqual(first);
    expect(notes).toEqual([
      {
        text: 'Reshipped; customer also asks about a double charge on the card.',
        kind: 'note',
        authorId: 'agent_alex',
        authorName: 'Alex Chen',
        source: 10,
      },
      {
        text: 'Double charge of $184.20 on Nov 18, please check.',
        kind: 'transfer',
        authorId: 'agent_alex',
        authorName: 'Alex Chen',
        source: 12,
      },
    ]);
    expect(previousAgents).toHaveLength(1);
    const alex = previousAgents?.[0];
    expect(alex).toMatchObject({
      agentId: 'agent_alex',
      name: 'Alex Chen',
      from: 7,
      until: 12,
      ended: 'transferred',
      messages: 2,
      lastMessage: { text: "A replacement is on its way. I'm passing you to billing for the charge.", source: 11 },
    });
    expect(alex?.actions).toEqual([
      expect.objectContaining({
        action: 'reship_order',
        actor: 'agent',
        actorId: 'agent_alex',
        outcome: 'succeeded',
        source: 9,
        details: expect.arrayContaining(['reship order id: A10493-R1']),
      }),
    ]);
    expect(alex?.notes.map((note) => note.kind)).toEqual(['note', 'transfer']);
    const text = renderBrief(second);
    expect(text).toContain('Alex Chen (transfer): Double charge');
    expect(text).toMatch(/Before: Alex Chen \(transferred\), 2 messages; Reshipped/);
  });

  it('the brief of the handoff alone (what `baton eval` reads) has no history fields', () => {
    const brief = buildBrief(S6);
    expect(brief).not.toHaveProperty('notes');
    expect(brief).not.toHaveProperty('previousAgents');
    expect(brief.upTo).toBe(S2.length);
  });

  it('the current owner is not a previous agent; a hand-back ends a tenure and its note is kept', () => {
    const current = buildBrief(S6, { through: 10 });
    expect(current).not.toHaveProperty('previousAgents');
    const returned = buildBrief(
      [...S6, { type: 'handoff.returned', fromAgentId: 'agent_sam', note: 'Refund approved, AI can wrap up.' }],
      { through: S6.length + 1 },
    );
    expect(returned.previousAgents?.map((agent) => [agent.agentId, agent.ended, agent.messages])).toEqual([
      ['agent_alex', 'transferred', 2],
      ['agent_sam', 'returned', 0],
    ]);
    expect(returned.notes?.at(-1)).toMatchObject({ kind: 'return', authorName: 'Sam Rivera' });
  });

  it('a secret pasted in a note is masked', () => {
    const brief = buildBrief(
      [
        ...S6.slice(0, 9),
        { type: 'note', authorId: 'agent_alex', text: 'Customer read out card 4111 1111 1111 1111 by mistake' },
      ],
      { through: 10 },
    );
    expect(JSON.stringify(brief.notes)).not.toContain('4111 1111');
  });
});
