import type { StoredEvent } from '@baton/core';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BatonServer } from '../src/app/server.ts';
import {
  addAgent,
  type BackendName,
  call,
  events,
  eventually,
  openDeskConsole,
  POSTGRES_URL,
  startConversation,
  startServer,
  type TestAgent,
  type TestDatabase,
  testDatabase,
  waitForEvent,
} from './support/desk-harness.ts';

type ConversationView = { conversation: { status: string; owner: { kind: string; id?: string } } };

const QUEUES = [
  { id: 'general', name: 'General' },
  { id: 'billing', name: 'Billing', skills: ['billing'] },
];

/** Every handoff offered or accepted in a log, in order: what a person reading the record would see. */
function flow(log: StoredEvent[]): string[] {
  return log
    .filter((event) => event.type.startsWith('handoff.') && event.type !== 'handoff.queued')
    .map((event) => ('agentId' in event && event.agentId ? `${event.type}:${event.agentId}` : event.type));
}

for (const backend of ['sqlite', 'postgres'] as BackendName[]) {
  describe(`desk on ${backend}`, () => {
    let database: TestDatabase;
    let server: BatonServer;
    let url: string;
    let sam: TestAgent;
    let alex: TestAgent;
    let billie: TestAgent;

    beforeAll(async () => {
      database = testDatabase(backend);
      // Offers outlive any test step here; expiry has its own server below.
      server = await startServer(database.env, { offerTtlMs: 120_000, tickMs: 50, queues: QUEUES });
      url = server.url;
      sam = await addAgent(server, { id: 'a_sam', name: 'Sam', capacity: 1 });
      alex = await addAgent(server, { id: 'a_alex', name: 'Alex', capacity: 1 });
      billie = await addAgent(server, { id: 'a_billie', name: 'Billie', skills: ['billing'], capacity: 2 });
    });

    afterAll(async () => {
      await server?.close();
      await database?.drop();
    });

    async function presence(agent: TestAgent, value: 'online' | 'away' | 'offline') {
      const reply = await call(url, 'POST', '/v1/desk/presence', { token: agent.token, body: { presence: value } });
      expect(reply.status).toBe(200);
    }

    async function requestHandoff(text: string, body: Record<string, unknown> = {}) {
      const customer = await startConversation(url, text);
      const reply = await call(url, 'POST', `/v1/conversations/${customer.conversationId}/handoff`, {
        customerToken: customer.customerToken,
        body,
      });
      expect(reply.status).toBe(201);
      return customer;
    }

    it('offers to one free agent, who accepts and owns it; every other accept gets 409', async () => {
      await presence(sam, 'online');
      const { conversationId, customerToken } = await requestHandoff('I want a person');
      const offered = await waitForEvent(url, conversationId, sam.token, 'handoff.offered');
      expect(offered.agentId).toBe(sam.id);
      expect(offered.agentName).toBe('Sam');
      expect(offered.expiresAt).toBeDefined();

      const inbox = await call<{ offers: { conversationId: string }[] }>(url, 'GET', '/v1/desk/inbox', {
        token: sam.token,
      });
      expect(inbox.body.offers.map((offer) => offer.conversationId)).toContain(conversationId);

      const stranger = await call(url, 'POST', `/v1/conversations/${conversationId}/accept`, { token: alex.token });
      expect(stranger.status).toBe(409);
      expect(stranger.body).toMatchObject({ error: { code: 'conflict' } });

      const accepted = await call<{ event: StoredEvent }>(url, 'POST', `/v1/conversations/${conversationId}/accept`, {
        token: sam.token,
      });
      expect(accepted.status).toBe(200);
      expect(accepted.body.event).toMatchObject({ type: 'handoff.accepted', agentId: sam.id, agentName: 'Sam' });

      const again = await call(url, 'POST', `/v1/conversations/${conversationId}/accept`, { token: sam.token });
      expect(again.status).toBe(409);

      const view = await call<ConversationView>(url, 'GET', `/v1/conversations/${conversationId}`, {
        token: sam.token,
      });
      expect(view.body.conversation.owner).toMatchObject({ kind: 'agent', id: sam.id });
      const reply = await call(url, 'POST', `/v1/conversations/${conversationId}/messages`, {
        token: sam.token,
        body: { text: 'Hi, Sam here. I can see everything so far.' },
      });
      expect(reply.status).toBe(201);
      const notOwner = await call(url, 'POST', `/v1/conversations/${conversationId}/messages`, {
        token: alex.token,
        body: { text: 'Hello?' },
      });
      expect(notOwner.status).toBe(409);

      // The customer saw that a person was coming and who joined.
      const customerLog = await call<{ events: StoredEvent[] }>(
        url,
        'GET',
        `/v1/conversations/${conversationId}/events`,
        {
          customerToken,
        },
      );
      const types = customerLog.body.events.map((event) => event.type);
      expect(types).toContain('handoff.queued');
      expect(types).toContain('handoff.accepted');

      const agents = await call<{ agents: { id: string; load: number }[] }>(url, 'GET', '/v1/desk/agents', {
        token: alex.token,
      });
      expect(agents.body.agents.find((agent) => agent.id === sam.id)?.load).toBe(1);

      const resolved = await call(url, 'POST', `/v1/conversations/${conversationId}/resolve`, {
        token: sam.token,
        body: { summary: 'Explained the two-step settings.' },
      });
      expect(resolved.status).toBe(200);
      const after = await call<ConversationView>(url, 'GET', `/v1/conversations/${conversationId}`, {
        token: sam.token,
      });
      expect(after.body.conversation.status).toBe('resolved');
      const loads = await call<{ agents: { id: string; load: number }[] }>(url, 'GET', '/v1/desk/agents', {
        token: alex.token,
      });
      expect(loads.body.agents.find((agent) => agent.id === sam.id)?.load).toBe(0);
      await presence(sam, 'offline');
    });

    it('does not close a conversation whose customer wrote after what the agent saw; the agent keeps it', async () => {
      await presence(sam, 'online');
      const { conversationId, customerToken } = await requestHandoff('I want a person');
      await waitForEvent(url, conversationId, sam.token, 'handoff.offered');
      await call(url, 'POST', `/v1/conversations/${conversationId}/accept`, { token: sam.token });
      // When Sam's inbox says the conversation became his.
      const assignedAtInInbox = async () => {
        const inbox = await call<{ owned: { conversationId: string; assignedAt?: string }[] }>(
          url,
          'GET',
          '/v1/desk/inbox',
          { token: sam.token },
        );
        return inbox.body.owned.find((entry) => entry.conversationId === conversationId)?.assignedAt;
      };
      const assignedAt = await assignedAtInInbox();
      expect(assignedAt).toBeDefined();
      const answered = await call<{ event: StoredEvent }>(url, 'POST', `/v1/conversations/${conversationId}/messages`, {
        token: sam.token,
        body: { text: 'That is done: the refund is on its way.' },
      });
      const seenSeq = answered.body.event.seq;
      // While Sam types the summary, the customer has one more question.
      const late = await call<{ event: StoredEvent }>(url, 'POST', `/v1/conversations/${conversationId}/messages`, {
        customerToken,
        body: { text: 'Thanks! And can you change my delivery address too?' },
      });
      expect(late.status).toBe(201);

      const refused = await call<{ error: { code: string; details: Record<string, unknown> } }>(
        url,
        'POST',
        `/v1/conversations/${conversationId}/resolve`,
        { token: sam.token, body: { summary: 'Refunded.', seenSeq } },
      );
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'conflict',
        details: { reason: 'customer_wrote', lastCustomerMessageSeq: late.body.event.seq },
      });
      // Nothing closed, nothing written: Sam still owns it and can answer.
      const view = await call<ConversationView>(url, 'GET', `/v1/conversations/${conversationId}`, {
        token: sam.token,
      });
      expect(view.body.conversation).toMatchObject({ status: 'assigned', owner: { kind: 'agent', id: sam.id } });
      expect(await assignedAtInInbox()).toBe(assignedAt);
      expect((await events(url, conversationId, sam.token)).map((event) => event.type)).not.toContain(
        'handoff.resolved',
      );
      const reply = await call(url, 'POST', `/v1/conversations/${conversationId}/messages`, {
        token: sam.token,
        body: { text: 'Of course, what is the new address?' },
      });
      expect(reply.status).toBe(201);

      const badSeen = await call(url, 'POST', `/v1/conversations/${conversationId}/resolve`, {
        token: sam.token,
        body: { seenSeq: -1 },
      });
      expect(badSeen.status).toBe(400);
      // Having seen it, Sam resolves; a resolve without seenSeq is not checked, as before.
      const resolved = await call(url, 'POST', `/v1/conversations/${conversationId}/resolve`, {
        token: sam.token,
        body: { seenSeq: late.body.event.seq },
      });
      expect(resolved.status).toBe(200);
      await presence(sam, 'offline');
    });

    it('moves a declined offer to the next agent and never back to the one who declined', async () => {
      await presence(sam, 'online');
      await presence(alex, 'online');
      const { conversationId } = await requestHandoff('person please');
      const first = await waitForEvent(url, conversationId, sam.token, 'handoff.offered');
      const firstAgent = first.agentId === sam.id ? sam : alex;
      const secondAgent = firstAgent === sam ? alex : sam;
      const declined = await call(url, 'POST', `/v1/conversations/${conversationId}/decline`, {
        token: firstAgent.token,
        body: { reason: 'on a call' },
      });
      expect(declined.status).toBe(200);
      const second = await waitForEvent(url, conversationId, sam.token, 'handoff.offered', 2);
      expect(second.agentId).toBe(secondAgent.id);

      const lateDecline = await call(url, 'POST', `/v1/conversations/${conversationId}/decline`, {
        token: firstAgent.token,
      });
      expect(lateDecline.status).toBe(409);
      await call(url, 'POST', `/v1/conversations/${conversationId}/decline`, { token: secondAgent.token });
      await waitForEvent(url, conversationId, sam.token, 'handoff.declined', 2);

      const queues = await call<{ queues: { id: string; entries: { conversationId: string; state: string }[] }[] }>(
        url,
        'GET',
        '/v1/desk/queues',
        { token: sam.token },
      );
      const entry = queues.body.queues
        .find((queue) => queue.id === 'general')
        ?.entries.find((item) => item.conversationId === conversationId);
      expect(entry?.state).toBe('waiting');
      const log = await events(url, conversationId, sam.token);
      expect(flow(log), JSON.stringify(log)).toEqual([
        'handoff.requested',
        `handoff.offered:${firstAgent.id}`,
        `handoff.declined:${firstAgent.id}`,
        `handoff.offered:${secondAgent.id}`,
        `handoff.declined:${secondAgent.id}`,
      ]);
      await presence(sam, 'offline');
      await presence(alex, 'offline');
    });

    it('transfers with a note to a queue: the next agent gets the whole record, the first is not offered it again', async () => {
      await presence(sam, 'online');
      const { conversationId } = await requestHandoff('my card was charged twice');
      await waitForEvent(url, conversationId, sam.token, 'handoff.offered');
      expect((await call(url, 'POST', `/v1/conversations/${conversationId}/accept`, { token: sam.token })).status).toBe(
        200,
      );
      await call(url, 'POST', `/v1/conversations/${conversationId}/messages`, {
        token: sam.token,
        body: { text: 'I see two charges of $42.10; moving you to billing.' },
      });
      const stranger = await call(url, 'POST', `/v1/conversations/${conversationId}/transfer`, {
        token: alex.token,
        body: { queue: 'billing' },
      });
      expect(stranger.status).toBe(409);
      const unknown = await call(url, 'POST', `/v1/conversations/${conversationId}/transfer`, {
        token: sam.token,
        body: { queue: 'nowhere' },
      });
      expect(unknown.status).toBe(400);

      await presence(billie, 'online');
      const transferred = await call<{ event: StoredEvent }>(
        url,
        'POST',
        `/v1/conversations/${conversationId}/transfer`,
        {
          token: sam.token,
          body: { queue: 'billing', note: 'Duplicate charge confirmed on the statement; needs a refund.' },
        },
      );
      expect(transferred.status).toBe(200);
      const offer = await waitForEvent(url, conversationId, billie.token, 'handoff.offered', 2);
      expect(offer.agentId).toBe(billie.id);
      expect(
        (await call(url, 'POST', `/v1/conversations/${conversationId}/accept`, { token: billie.token })).status,
      ).toBe(200);
      const log = await events(url, conversationId, billie.token);
      expect(log.find((event) => event.type === 'handoff.transferred')).toMatchObject({
        fromAgentId: sam.id,
        queue: 'billing',
        note: 'Duplicate charge confirmed on the statement; needs a refund.',
      });
      expect(log.some((event) => event.type === 'message' && event.text.includes('$42.10'))).toBe(true);
      const view = await call<{ state: { agents: string[]; owner: { id?: string } } }>(
        url,
        'GET',
        `/v1/conversations/${conversationId}`,
        { token: billie.token },
      );
      expect(view.body.state.agents).toEqual([sam.id, billie.id]);
      expect(view.body.state.owner.id).toBe(billie.id);
      const samWrites = await call(url, 'POST', `/v1/conversations/${conversationId}/messages`, {
        token: sam.token,
        body: { text: 'still here' },
      });
      expect(samWrites.status).toBe(409);

      // Back to the AI, with what the human did.
      const returned = await call<{ event: StoredEvent }>(url, 'POST', `/v1/conversations/${conversationId}/return`, {
        token: billie.token,
        body: { note: 'Refunded $42.10; AI can confirm and close.' },
      });
      expect(returned.status).toBe(200);
      expect(returned.body.event).toMatchObject({ type: 'handoff.returned', fromAgentId: billie.id });
      const back = await call<ConversationView>(url, 'GET', `/v1/conversations/${conversationId}`, {
        token: billie.token,
      });
      expect(back.body.conversation.owner.kind).toBe('ai');
      const billieAgain = await call(url, 'POST', `/v1/conversations/${conversationId}/messages`, {
        token: billie.token,
        body: { text: 'one more thing' },
      });
      expect(billieAgain.status).toBe(409);
      await presence(sam, 'offline');
      await presence(billie, 'offline');
    });

    it('transfers to a named agent, falling back to the queue if they say no', async () => {
      await presence(sam, 'online');
      await presence(alex, 'online');
      const { conversationId } = await requestHandoff('help me');
      const offered = await waitForEvent(url, conversationId, sam.token, 'handoff.offered');
      const owner = offered.agentId === sam.id ? sam : alex;
      const other = owner === sam ? alex : sam;
      await call(url, 'POST', `/v1/conversations/${conversationId}/accept`, { token: owner.token });
      await presence(billie, 'online');
      const reply = await call(url, 'POST', `/v1/conversations/${conversationId}/transfer`, {
        token: owner.token,
        body: { agentId: billie.id, note: 'You know this customer.' },
      });
      expect(reply.status).toBe(200);
      const toBillie = await waitForEvent(url, conversationId, sam.token, 'handoff.offered', 2);
      expect(toBillie.agentId).toBe(billie.id);
      await call(url, 'POST', `/v1/conversations/${conversationId}/decline`, { token: billie.token });
      const fallback = await waitForEvent(url, conversationId, sam.token, 'handoff.offered', 3);
      // The agent who transferred it away is not offered it again.
      expect(fallback.agentId).toBe(other.id);
      await call(url, 'POST', `/v1/conversations/${conversationId}/accept`, { token: other.token });
      await call(url, 'POST', `/v1/conversations/${conversationId}/resolve`, { token: other.token });
      await call(url, 'POST', `/v1/conversations/${conversationId}/resolve`, { token: owner.token }).then((r) =>
        expect(r.status).toBe(409),
      );
      for (const agent of [sam, alex, billie]) await presence(agent, 'offline');
    });

    it('tells waiting customers their place, serves urgent first, and estimates once someone can answer', async () => {
      const normal = await requestHandoff('waiting one', { priority: 'normal' });
      const second = await requestHandoff('waiting two', { priority: 'normal' });
      const queuedFirst = await waitForEvent(url, normal.conversationId, sam.token, 'handoff.queued');
      const queuedSecond = await waitForEvent(url, second.conversationId, sam.token, 'handoff.queued');
      expect(queuedSecond.position).toBeGreaterThan(queuedFirst.position ?? 0);
      // Nobody online who could answer: no number is better than a made-up one.
      expect(queuedSecond.estimatedWaitSeconds).toBeUndefined();

      const urgent = await requestHandoff('this is urgent', { priority: 'urgent' });
      const urgentQueued = await waitForEvent(url, urgent.conversationId, sam.token, 'handoff.queued');
      expect(urgentQueued.position).toBe(1);
      const bumped = await eventually(async () => {
        const log = await events(url, normal.conversationId, sam.token);
        const queued = log.filter((event) => event.type === 'handoff.queued');
        const last = queued.at(-1);
        return last?.type === 'handoff.queued' && last.position === (queuedFirst.position ?? 0) + 1 ? last : undefined;
      }, 'the first customer to move down one place');
      expect(bumped.queue).toBe('general');

      // Sam comes online with one slot: the urgent one is offered first, the others get an estimate.
      await presence(sam, 'online');
      const offered = await waitForEvent(url, urgent.conversationId, sam.token, 'handoff.offered');
      expect(offered.agentId).toBe(sam.id);
      await eventually(async () => {
        const log = await events(url, second.conversationId, sam.token);
        const last = log.filter((event) => event.type === 'handoff.queued').at(-1);
        return last?.type === 'handoff.queued' && last.estimatedWaitSeconds !== undefined;
      }, 'a wait estimate once an agent is online');
      const queues = await call<{ queues: { id: string; waiting: number; entries: { position?: number }[] }[] }>(
        url,
        'GET',
        '/v1/desk/queues',
        { token: sam.token },
      );
      expect(queues.body.queues.find((queue) => queue.id === 'general')?.waiting).toBeGreaterThanOrEqual(2);

      // Sam steps away: the open offer lapses at once and goes back to the queue.
      await presence(sam, 'away');
      await waitForEvent(url, urgent.conversationId, sam.token, 'handoff.expired');
      const inbox = await call<{ offers: unknown[] }>(url, 'GET', '/v1/desk/inbox', { token: sam.token });
      expect(inbox.body.offers).toEqual([]);
    });
  });

  describe(`desk timers on ${backend}`, () => {
    let database: TestDatabase;
    let server: BatonServer;
    let url: string;
    let first: TestAgent;
    let second: TestAgent;
    let supervisor: TestAgent;
    const closedDay =
      (['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const)[(new Date().getUTCDay() + 3) % 7] ?? 'sun';

    beforeAll(async () => {
      database = testDatabase(backend);
      server = await startServer(database.env, {
        offerTtlMs: 300,
        callbackAfterMs: 0,
        tickMs: 50,
        queues: [
          { id: 'general' },
          // Nobody has this skill: a customer here waits until the callback timer turns it into a callback.
          { id: 'patience', skills: ['rare'], callbackAfterSeconds: 1.5 },
          // Open only on a day that is neither today nor yesterday: closed whenever the test runs.
          {
            id: 'night',
            skills: ['night'],
            hours: { windows: [{ days: [closedDay], open: '09:00', close: '10:00' }] },
          },
        ],
      });
      url = server.url;
      first = await addAgent(server, { id: 'a_first', name: 'First', capacity: 1 });
      second = await addAgent(server, { id: 'a_second', name: 'Second', capacity: 1 });
      supervisor = await addAgent(server, { id: 'a_super', name: 'Sup', role: 'supervisor', capacity: 1 });
    });

    afterAll(async () => {
      await server?.close();
      await database?.drop();
    });

    it('lets an unanswered offer expire and moves on to the next agent', async () => {
      await call(url, 'POST', '/v1/desk/presence', { token: first.token, body: { presence: 'online' } });
      const customer = await startConversation(url, 'anyone there?');
      await call(url, 'POST', `/v1/conversations/${customer.conversationId}/handoff`, {
        customerToken: customer.customerToken,
        body: {},
      });
      const offer = await waitForEvent(url, customer.conversationId, first.token, 'handoff.offered');
      expect(offer.agentId).toBe(first.id);
      const expired = await waitForEvent(url, customer.conversationId, first.token, 'handoff.expired');
      expect(expired.agentId).toBe(first.id);
      const late = await call(url, 'POST', `/v1/conversations/${customer.conversationId}/accept`, {
        token: first.token,
      });
      expect(late.status).toBe(409);

      await call(url, 'POST', '/v1/desk/presence', { token: second.token, body: { presence: 'online' } });
      const next = await waitForEvent(url, customer.conversationId, first.token, 'handoff.offered', 2);
      expect(next.agentId).toBe(second.id);
      await call(url, 'POST', '/v1/desk/presence', { token: first.token, body: { presence: 'offline' } });
      await call(url, 'POST', '/v1/desk/presence', { token: second.token, body: { presence: 'offline' } });
    });

    it('turns a wait into a callback outside opening hours or when nobody answers for too long; anyone can take it', async () => {
      const night = await startConversation(url, 'it is late');
      await call(url, 'POST', `/v1/conversations/${night.conversationId}/handoff`, {
        customerToken: night.customerToken,
        body: { skills: ['night'] },
      });
      const closed = await waitForEvent(url, night.conversationId, first.token, 'handoff.callback');
      expect(closed.reason).toBe('outside opening hours');

      const nobody = await startConversation(url, 'hello?');
      await call(url, 'POST', `/v1/conversations/${nobody.conversationId}/handoff`, {
        customerToken: nobody.customerToken,
        body: { skills: ['rare'] },
      });
      const queued = await waitForEvent(url, nobody.conversationId, first.token, 'handoff.queued');
      expect(queued.position).toBe(1);
      const callback = await waitForEvent(url, nobody.conversationId, first.token, 'handoff.callback');
      expect(callback.reason).toBe('no agent free');
      const view = await call<ConversationView>(url, 'GET', `/v1/conversations/${nobody.conversationId}`, {
        customerToken: nobody.customerToken,
      });
      expect(view.body.conversation.status).toBe('callback');

      const inbox = await call<{ callbacks: { conversationId: string }[] }>(url, 'GET', '/v1/desk/inbox', {
        token: second.token,
      });
      expect(inbox.body.callbacks.map((entry) => entry.conversationId)).toEqual(
        expect.arrayContaining([night.conversationId, nobody.conversationId]),
      );
      const [take, race] = await Promise.all([
        call(url, 'POST', `/v1/conversations/${nobody.conversationId}/accept`, { token: first.token }),
        call(url, 'POST', `/v1/conversations/${nobody.conversationId}/accept`, { token: second.token }),
      ]);
      expect([take.status, race.status].sort()).toEqual([200, 409]);
      const log = await events(url, nobody.conversationId, first.token);
      expect(log.filter((event) => event.type === 'handoff.accepted')).toHaveLength(1);

      const metrics = await call<{
        totals: { offers: number; expired: number };
        buckets: { repeatAsks: number }[];
        handoff: { replayed: number; handedOff: number };
      }>(url, 'GET', '/v1/desk/metrics?hours=1&bucketMinutes=10', { token: supervisor.token });
      expect(metrics.status).toBe(200);
      expect(metrics.body.buckets).toHaveLength(6);
      expect(metrics.body.totals.offers).toBeGreaterThanOrEqual(2);
      expect(metrics.body.totals.expired).toBeGreaterThanOrEqual(1);
      // The record itself is replayed through the core metrics for the same conversations.
      expect(metrics.body.handoff.replayed).toBeGreaterThanOrEqual(3);
      expect(metrics.body.handoff.handedOff).toBe(metrics.body.handoff.replayed);
      expect(metrics.body.buckets.every((bucket) => bucket.repeatAsks === 0)).toBe(true);
      const forbidden = await call(url, 'GET', '/v1/desk/metrics', { token: first.token });
      expect(forbidden.status).toBe(403);
    });
  });

  describe(`a second request while waiting on ${backend}`, () => {
    it('keeps the customer their place and raises the priority', async () => {
      const database = testDatabase(backend);
      const server = await startServer(database.env, { offerTtlMs: 120_000, tickMs: 50 });
      try {
        const agent = await addAgent(server, { id: 'a_later', name: 'Later', capacity: 1 });
        const { conversationId, customerToken } = await startConversation(server.url, 'my card was charged twice');
        const asked = await call(server.url, 'POST', `/v1/conversations/${conversationId}/handoff`, {
          customerToken,
          body: { priority: 'normal' },
        });
        expect(asked.status).toBe(201);
        await waitForEvent(server.url, conversationId, agent.token, 'handoff.queued');
        const entry = async () => {
          const reply = await call<{
            queues: { entries: { conversationId: string; priority: string; waitingSince: string }[] }[];
          }>(server.url, 'GET', '/v1/desk/queues', { token: agent.token });
          return reply.body.queues
            .flatMap((queue) => queue.entries)
            .find((row) => row.conversationId === conversationId);
        };
        const before = await eventually(entry, 'the wait on the desk');
        expect(before.priority).toBe('normal');
        // The AI hears frustration rising and asks again, more urgently, while the customer still waits.
        await server.deps.service.append(
          conversationId,
          [{ type: 'handoff.requested', trigger: 'frustration', priority: 'urgent', skills: [] }],
          { kind: 'ai' },
        );
        const after = await eventually(async () => {
          const row = await entry();
          return row?.priority === 'urgent' ? row : undefined;
        }, 'the priority to rise');
        // Same wait: the place (since when it waits) is kept, not restarted at the back.
        expect(after.waitingSince).toBe(before.waitingSince);
      } finally {
        await server.close();
        await database.drop();
      }
    });
  });

  describe(`desk after a restart on ${backend}`, () => {
    it('routes a wait the log knows of but no router saw (a process stopped right after the request)', async () => {
      const database = testDatabase(backend);
      const settings = { offerTtlMs: 120_000, tickMs: 50 };
      let server = await startServer(database.env, settings);
      try {
        const agent = await addAgent(server, { id: 'a_after', name: 'After', capacity: 1 });
        const { conversationId } = await startConversation(server.url, 'hello');
        // Straight into the store: no process hears of it, as if the one that wrote it had died.
        await server.deps.store.append(conversationId, [
          { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal', skills: [] },
        ]);
        await server.close();
        server = await startServer(database.env, settings);
        await call(server.url, 'POST', '/v1/desk/presence', { token: agent.token, body: { presence: 'online' } });
        const offered = await waitForEvent(server.url, conversationId, agent.token, 'handoff.offered');
        expect(offered.agentId).toBe(agent.id);
      } finally {
        await server.close();
        await database.drop();
      }
    });
  });
}

describe('desk on postgres: routing while another writer holds part of the database', () => {
  let database: TestDatabase;
  let server: BatonServer;
  /** The other writer: a transaction of its own, rolled back when the test lets go. */
  let holder: pg.Client;
  let consoles: Awaited<ReturnType<typeof openDeskConsole>>[];
  const schema = () => database.env.BATON_DATABASE_SCHEMA;

  beforeEach(async () => {
    database = testDatabase('postgres');
    server = await startServer(database.env, { offerTtlMs: 120_000, tickMs: 50 });
    holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    consoles = [];
  });

  afterEach(async () => {
    await holder.query('rollback').catch(() => undefined);
    await holder.end().catch(() => undefined);
    for (const console of consoles) await console.close();
    await server.close();
    await database.drop();
  });

  async function onlineAgent(id: string, name: string, capacity: number) {
    const agent = await addAgent(server, { id, name, capacity });
    const reply = await call(server.url, 'POST', '/v1/desk/presence', {
      token: agent.token,
      body: { presence: 'online' },
    });
    expect(reply.status).toBe(200);
    return agent;
  }

  async function askForPerson(customer: { conversationId: string; customerToken: string }) {
    const reply = await call(server.url, 'POST', `/v1/conversations/${customer.conversationId}/handoff`, {
      customerToken: customer.customerToken,
      body: {},
    });
    expect(reply.status).toBe(201);
    return customer.conversationId;
  }

  it("routes one customer's request for a person while another conversation's routing is held up", async () => {
    const agent = await onlineAgent('a_both', 'Both', 2);
    // Another writer is inserting this conversation's wait, uncommitted: its request for a person, which
    // starts the wait in the same write, waits on that row until the writer is done.
    const stuck = await startConversation(server.url, 'I need a person');
    await holder.query('begin');
    const now = new Date().toISOString();
    await holder.query(
      `insert into "${schema()}".desk_handoffs (conversation_id, state, queue, priority,
        skills, excluded_agent_ids, waiting_since, episode, updated_at)
        values ($1, 'closed', 'general', 'normal', '[]', '[]', $2, 0, $2)`,
      [stuck.conversationId, now],
    );
    const stuckAsked = askForPerson(stuck);
    const other = await askForPerson(await startConversation(server.url, 'Can I talk to someone please'));
    const offered = await waitForEvent(server.url, other, agent.token, 'handoff.offered');
    expect(offered.agentId).toBe(agent.id);
    // Once the other writer has gone, the held-up request is stored and routed too.
    await holder.query('rollback');
    await stuckAsked;
    const then = await waitForEvent(server.url, stuck.conversationId, agent.token, 'handoff.offered');
    expect(then.agentId).toBe(agent.id);
  });

  it("offers the next handoff while the last offer's notice is still being written (its audit line held back)", async () => {
    for (const [id, name] of [
      ['a_first', 'First'],
      ['a_second', 'Second'],
    ] as const) {
      consoles.push(await openDeskConsole(server.url, await onlineAgent(id, name, 1)));
    }
    const offerTo = (index: number, conversationId: string) =>
      eventually(
        async () =>
          consoles[index]!.notices.find(
            (notice) =>
              notice.name === 'offer' &&
              notice.payload.conversationId === conversationId &&
              notice.payload.state === 'open',
          ),
        `an offer of ${conversationId} on console ${index}`,
        10_000,
      );
    const ask = async () => askForPerson(await startConversation(server.url, 'I would like to talk to a person'));
    // An offer's brief is audited once its notice is out; with the audit table locked, that write waits.
    await holder.query('begin');
    await holder.query(`lock table "${schema()}".audit_log in access exclusive mode`);
    const firstAsked = await ask();
    const offers = [await offerTo(0, firstAsked)];
    // The pass that offered it has let go of the lease; the next one does not wait for its notices.
    const secondAsked = await ask();
    offers.push(await offerTo(1, secondAsked));
    expect(offers.map((offer) => typeof offer.payload.brief)).toEqual(['object', 'object']);
    await holder.query('rollback');
    // Both audit lines are written once the table is free again.
    const audited = await eventually(async () => {
      const { rows } = await holder.query<{ conversation_id: string }>(
        `select conversation_id from "${schema()}".audit_log where action = 'conversation.brief_offered'`,
      );
      return rows.length === 2 ? rows.map((row) => row.conversation_id).sort() : undefined;
    }, 'the audit lines of both briefs');
    expect(audited).toEqual([firstAsked, secondAsked].sort());
  });
});
