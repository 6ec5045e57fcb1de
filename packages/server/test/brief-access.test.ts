import type { Brief, EventBodyInput, StoredEvent } from '@baton/core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { randomToken, sha256 } from '../src/app/auth.ts';
import type { Actor } from '../src/app/conversation-service.ts';
import { authRoutes } from '../src/app/routes/auth-routes.ts';
import { contextRoutes } from '../src/app/routes/context.ts';
import { conversationRoutes } from '../src/app/routes/conversations.ts';
import { type BatonServer, createServer } from '../src/app/server.ts';
import { loadConfig } from '../src/config.ts';
import type { ConnectorResult } from '../src/connectors/connector.ts';
import { DemoBackOffice } from '../src/connectors/demo-back-office.ts';
import { startTestServer } from './helpers.ts';
import {
  addAgent,
  call,
  modulesWithDesk,
  type TestAgent,
  type TestDatabase,
  testDatabase,
  waitForEvent,
} from './support/desk-harness.ts';

const QUEUES = [
  { id: 'orders', name: 'Orders', skills: ['refunds'] },
  { id: 'billing', name: 'Billing', skills: ['billing'] },
  { id: 'nurses', name: 'Nurses', skills: ['clinical'] },
  { id: 'scheduling', name: 'Scheduling', skills: ['scheduling'] },
];

/** A back-office answer as the tool registry records it: one action event. */
function actionOf(name: string, input: Record<string, unknown>, answer: ConnectorResult): EventBodyInput {
  return {
    type: 'action',
    name,
    actor: 'ai',
    input,
    outcome: answer.outcome,
    ...(answer.outcome === 'succeeded' ? { result: answer.data } : { error: answer.error }),
    ...(answer.outcome !== 'succeeded' && answer.data ? { result: answer.data } : {}),
  };
}

describe('what each agent may read: brief after a transfer, result details, clinical masking, audit', () => {
  let database: TestDatabase;
  let server: BatonServer;
  let url: string;
  let alex: TestAgent;
  let billie: TestAgent;
  let scheduler: TestAgent;
  let nurse: TestAgent;
  const backOffice = new DemoBackOffice({ now: () => new Date('2026-11-25T12:00:00Z') });
  const signal = new AbortController().signal;

  beforeAll(async () => {
    database = testDatabase('sqlite');
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...database.env });
    server = await createServer(config, {
      logger: pino({ level: 'silent' }),
      modules: [...modulesWithDesk({ offerTtlMs: 120_000, tickMs: 50, queues: QUEUES }), contextRoutes],
    });
    url = server.url;
    alex = await addAgent(server, { id: 'a_alex', name: 'Alex Chen', skills: ['refunds'] });
    billie = await addAgent(server, { id: 'a_billie', name: 'Billie Fox', skills: ['billing'] });
    scheduler = await addAgent(server, { id: 'a_pat', name: 'Pat Scheduler', skills: ['scheduling'] });
    nurse = await addAgent(server, { id: 'a_kim', name: 'Nurse Kim', skills: ['clinical'] });
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  async function record(industry: 'ecommerce' | 'healthcare', customerName: string) {
    const { service } = server.deps;
    const { conversation } = await service.create({ industry, customerName });
    return {
      id: conversation.id,
      append: (events: EventBodyInput[], actor: Actor = { kind: 'ai' }) =>
        service.append(conversation.id, events as Parameters<typeof service.append>[1], actor),
    };
  }

  const brief = async (agent: TestAgent, id: string) => {
    const reply = await call<{ brief: Brief }>(url, 'GET', `/v1/conversations/${id}/brief`, { token: agent.token });
    expect(reply.status).toBe(200);
    return reply.body.brief;
  };
  const eventsFor = async (agent: TestAgent, id: string) => {
    const reply = await call<{ events: StoredEvent[] }>(url, 'GET', `/v1/conversations/${id}/events`, {
      token: agent.token,
    });
    expect(reply.status).toBe(200);
    return reply.body.events;
  };
  /** Subscribes over the WebSocket from the start and collects `count` events. */
  const streamEvents = (agent: TestAgent, id: string, count: number) =>
    new Promise<StoredEvent[]>((resolve, reject) => {
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
        headers: { authorization: `Bearer ${agent.token}` },
      });
      const received: StoredEvent[] = [];
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe', conversationId: id, after: 0 })));
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; event?: StoredEvent; error?: unknown };
        if (frame.type === 'error') reject(new Error(JSON.stringify(frame.error)));
        if (frame.type === 'event' && frame.event) received.push(frame.event);
        if (received.length >= count) {
          socket.close();
          resolve(received);
        }
      });
    });
  const presence = (agent: TestAgent) =>
    call(url, 'POST', '/v1/desk/presence', { token: agent.token, body: { presence: 'online' } });

  it('S2 and S6: the second agent reads the order, tracking and refund rule, the notes and what the first agent did', async () => {
    const shop = await record('ecommerce', 'Jordan Blake');
    await shop.append(
      [
        {
          type: 'message',
          author: 'customer',
          text: 'Where is my order A10493? It says delivered but I never got it.',
        },
      ],
      { kind: 'customer' },
    );
    const order = { order_id: 'A10493' };
    await shop.append([
      actionOf('find_order', order, await backOffice.invoke('find_order', order, { signal })),
      actionOf('track_shipment', order, await backOffice.invoke('track_shipment', order, { signal })),
      actionOf(
        'check_refund_eligibility',
        order,
        await backOffice.invoke('check_refund_eligibility', order, { signal }),
      ),
      { type: 'handoff.requested', trigger: 'policy', reason: 'refund above AI limit', skills: ['refunds'] },
    ]);

    await presence(alex);
    await waitForEvent(url, shop.id, alex.token, 'handoff.offered');
    expect((await call(url, 'POST', `/v1/conversations/${shop.id}/accept`, { token: alex.token })).status).toBe(200);
    await call(url, 'POST', `/v1/conversations/${shop.id}/messages`, {
      token: alex.token,
      body: { text: 'Hi Jordan, I can see the carrier left it at the front door. Let me sort this out.' },
    });
    await call(url, 'POST', `/v1/conversations/${shop.id}/notes`, {
      token: alex.token,
      body: { text: 'Neighbour checked, no parcel. Reship approved on my side.' },
    });
    await presence(billie);
    const transfer = await call(url, 'POST', `/v1/conversations/${shop.id}/transfer`, {
      token: alex.token,
      body: { queue: 'billing', note: 'Customer also sees a double charge of $184.20.' },
    });
    expect(transfer.status).toBe(200);
    await waitForEvent(url, shop.id, billie.token, 'handoff.offered', 2);

    const seen = await brief(billie, shop.id);
    // The handoff's brief, as before the transfer.
    expect(seen.handoff).toMatchObject({ trigger: 'policy', skills: ['refunds'] });
    expect(seen.steps.map((step) => step.action)).toEqual(['find_order', 'track_shipment', 'check_refund_eligibility']);
    // S2: what each back-office answer said.
    const [found, tracked, refund] = seen.steps;
    expect(found?.details).toEqual(expect.arrayContaining(['item count: 3', 'total: 184.2 USD']));
    expect(tracked?.details?.join('\n')).toMatch(/Delivered, left at front door \(2 days ago\)/);
    expect(refund?.summary).toMatch(/refund above AI limit/i);
    expect(refund?.details).toEqual(expect.arrayContaining(['limit: 100 USD']));
    // S6: the note, the transfer note and the first agent's work.
    expect(seen.notes?.map((note) => [note.kind, note.authorName, note.text])).toEqual([
      ['note', 'Alex Chen', 'Neighbour checked, no parcel. Reship approved on my side.'],
      ['transfer', 'Alex Chen', 'Customer also sees a double charge of $184.20.'],
    ]);
    expect(seen.previousAgents).toEqual([
      expect.objectContaining({
        agentId: alex.id,
        name: 'Alex Chen',
        ended: 'transferred',
        messages: 1,
        lastMessage: expect.objectContaining({ text: expect.stringContaining('front door') }),
      }),
    ]);
    // `upTo` asks for the brief at a point in the log: no history is added then.
    const atHandoff = await call<{ brief: Brief }>(url, 'GET', `/v1/conversations/${shop.id}/brief?upTo=5`, {
      token: billie.token,
    });
    expect(atHandoff.body.brief).not.toHaveProperty('notes');
  });

  it('S3: a scheduler reads the referral status without the diagnosis, a nurse reads both, and every read is audited', async () => {
    const clinic = await record('healthcare', 'Maria Gonzalez');
    await clinic.append([{ type: 'message', author: 'customer', text: 'Did my cardiology referral go through?' }], {
      kind: 'customer',
    });
    const patient = { full_name: 'Maria Gonzalez', date_of_birth: '1962-03-03' };
    const verified = await backOffice.invoke('verify_patient', patient, { signal });
    expect(verified.outcome).toBe('succeeded');
    const patientId = verified.outcome === 'succeeded' ? String(verified.data.patient_id) : '';
    const lookup = { patient_id: patientId, specialty: 'cardiology' };
    const referral = await backOffice.invoke('find_referral', lookup, { signal });
    if (referral.outcome !== 'succeeded') throw new Error('no referral in the demo clinic');
    const diagnosis = backOffice.referralDiagnosis(String(referral.data.referral_id));
    expect(diagnosis).toBeTruthy();
    // The clinic's own system records the referral with its diagnosis (the AI's tool never reads it).
    await clinic.append([
      actionOf('verify_patient', patient, verified),
      {
        type: 'action',
        name: 'find_referral',
        actor: 'system',
        input: lookup,
        outcome: 'succeeded',
        result: { ...referral.data, diagnosis },
      },
    ]);
    await clinic.append(
      [{ type: 'message', author: 'customer', text: 'should I keep taking my blood pressure pills until then?' }],
      { kind: 'customer' },
    );
    await clinic.append([{ type: 'handoff.requested', trigger: 'policy', priority: 'high', skills: ['clinical'] }]);
    const status = String(referral.data.status);

    const schedulerBrief = await brief(scheduler, clinic.id);
    const schedulerLines = schedulerBrief.steps.find((step) => step.action === 'find_referral')?.details ?? [];
    expect(schedulerLines).toContain(`status: ${status}`);
    expect(schedulerLines).toContain('diagnosis: [restricted]');
    expect(JSON.stringify(schedulerBrief)).not.toContain(diagnosis);
    const schedulerEvents = await eventsFor(scheduler, clinic.id);
    const schedulerReferral = schedulerEvents.find(
      (event) => event.type === 'action' && event.name === 'find_referral',
    );
    expect(schedulerReferral).toMatchObject({ result: { status, diagnosis: '[restricted]' } });
    expect(JSON.stringify(schedulerEvents)).not.toContain(diagnosis);

    const nurseBrief = await brief(nurse, clinic.id);
    const nurseLines = nurseBrief.steps.find((step) => step.action === 'find_referral')?.details ?? [];
    expect(nurseLines).toEqual(expect.arrayContaining([`status: ${status}`, `diagnosis: ${diagnosis}`]));
    const nurseEvents = await eventsFor(nurse, clinic.id);
    expect(nurseEvents.find((event) => event.type === 'action' && event.name === 'find_referral')).toMatchObject({
      result: { status, diagnosis },
    });

    // The live stream the console builds its brief from is masked the same way.
    const streamed = await streamEvents(scheduler, clinic.id, schedulerEvents.length);
    expect(streamed.find((event) => event.type === 'action' && event.name === 'find_referral')).toMatchObject({
      result: { status, diagnosis: '[restricted]' },
    });
    expect(JSON.stringify(streamed)).not.toContain(diagnosis);

    // Who, what, when: each read is in the audit log, with whether clinical fields were open to the reader.
    const audit = await server.deps.store.listAudit(clinic.id, 100);
    const reads = audit
      .filter((entry) => entry.action === 'conversation.brief_viewed' || entry.action === 'conversation.events_read')
      .map((entry) => [entry.actorId, entry.action, entry.detail.clinical]);
    expect(reads).toEqual(
      expect.arrayContaining([
        [scheduler.id, 'conversation.brief_viewed', false],
        [scheduler.id, 'conversation.events_read', false],
        [nurse.id, 'conversation.brief_viewed', true],
        [nurse.id, 'conversation.events_read', true],
      ]),
    );
    for (const entry of audit) expect(Number.isNaN(Date.parse(entry.at))).toBe(false);
    // A conversation's view is audited too.
    await call(url, 'GET', `/v1/conversations/${clinic.id}`, { token: scheduler.token });
    const after = await server.deps.store.listAudit(clinic.id, 100);
    expect(after.some((entry) => entry.actorId === scheduler.id && entry.action === 'conversation.viewed')).toBe(true);
  });

  it('puts the brief in the offer itself, masked for the agent it goes to, and audits that read', async () => {
    const clinic = await record('healthcare', 'Ana Ruiz');
    await clinic.append([{ type: 'message', author: 'customer', text: 'Can I move my cardiology appointment?' }], {
      kind: 'customer',
    });
    await clinic.append([
      {
        type: 'action',
        name: 'find_referral',
        actor: 'system',
        input: { patient_id: 'P-77' },
        outcome: 'succeeded',
        result: { status: 'approved', diagnosis: 'atrial fibrillation' },
      },
      { type: 'handoff.requested', trigger: 'policy', priority: 'normal', skills: ['scheduling'] },
    ]);
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
      headers: { authorization: `Bearer ${scheduler.token}` },
    });
    const offer = new Promise<Record<string, unknown>>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; name?: string; payload?: Record<string, unknown> };
        if (frame.type === 'desk' && frame.name === 'offer' && frame.payload?.conversationId === clinic.id) {
          if (frame.payload.state === 'open') resolve(frame.payload);
        }
      });
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'subscribe_desk' }));
    // The desk subscription is in place once a ping made after it is answered.
    await new Promise<void>((resolve) => {
      socket.on('message', (data) => {
        if (JSON.parse(data.toString()).type === 'pong') resolve();
      });
      socket.send(JSON.stringify({ type: 'ping' }));
    });
    await presence(scheduler);
    const payload = await offer;
    socket.close();
    expect(payload.agentId).toBe(scheduler.id);
    const offered = payload.brief as Brief;
    expect(offered.steps.find((step) => step.action === 'find_referral')?.details).toEqual(
      expect.arrayContaining(['status: approved', 'diagnosis: [restricted]']),
    );
    expect(JSON.stringify(offered)).not.toContain('atrial fibrillation');
    // The same brief the route gives that agent.
    const fetched = await brief(scheduler, clinic.id);
    expect(offered.steps).toEqual(fetched.steps);
    expect(offered.facts).toEqual(fetched.facts);
    const audit = await server.deps.store.listAudit(clinic.id, 100);
    expect(
      audit.some(
        (entry) =>
          entry.actorId === scheduler.id &&
          entry.action === 'conversation.brief_offered' &&
          entry.detail.clinical === false,
      ),
    ).toBe(true);
  });
});

describe('the demo clinic (S3)', () => {
  it('seeds a scheduler without the clinical skill and a nurse with it; only the nurse reads the diagnosis', async () => {
    const demo = await startTestServer({ modules: [authRoutes, conversationRoutes, contextRoutes] });
    try {
      const byEmail = (email: string) => demo.seed?.agents.find((agent) => agent.email === email);
      const pat = byEmail('pat@demo.baton.dev');
      const kim = byEmail('kim@demo.baton.dev');
      expect(pat?.skills).not.toContain('clinical');
      expect(kim?.skills).toContain('clinical');
      const session = async (agentId: string) => {
        const token = randomToken();
        await demo.server.deps.store.createSession({
          tokenHash: sha256(token),
          agentId,
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        });
        return token;
      };
      const { service } = demo.server.deps;
      const { conversation } = await service.create({ industry: 'healthcare', customerName: 'Maria Gonzalez' });
      await service.append(
        conversation.id,
        [
          {
            type: 'action',
            name: 'find_referral',
            actor: 'system',
            outcome: 'succeeded',
            result: {
              referral_id: 'REF-1',
              status: 'awaiting specialist scheduling',
              diagnosis: 'Stage 2 hypertension',
            },
          },
        ],
        { kind: 'system' },
      );
      const read = async (token: string) => {
        const response = await fetch(`${demo.url}/v1/conversations/${conversation.id}/brief`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(200);
        return JSON.stringify(await response.json());
      };
      const asPat = await read(await session(pat!.id));
      expect(asPat).toContain('status: awaiting specialist scheduling');
      expect(asPat).not.toContain('hypertension');
      expect(await read(await session(kim!.id))).toContain('diagnosis: Stage 2 hypertension');
    } finally {
      await demo.close();
    }
  });
});
