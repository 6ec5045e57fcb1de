import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BatonServer } from '../src/app/server.ts';
import {
  addAgent,
  call,
  events,
  eventually,
  openDeskConsole,
  REDIS_URL,
  startConversation,
  startServer,
  type TestAgent,
  type TestDatabase,
  testDatabase,
} from './support/desk-harness.ts';

type DeskConsole = Awaited<ReturnType<typeof openDeskConsole>>;

const GRACE_MS = 150;
const CHECK_MS = 100;
/** Comfortably past grace and check: long enough for a change that should happen to have happened. */
const SETTLE_MS = 4 * (GRACE_MS + CHECK_MS);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function presenceOf(server: BatonServer, agent: TestAgent) {
  return (await server.deps.store.getAgent(agent.id))?.presence;
}

/** One agent as the desk's agents view (the supervisor's table) shows them to `viewer`. */
async function agentView(url: string, viewer: TestAgent, agent: TestAgent) {
  const listed = await call<{ agents: { id: string; presence: string; presenceReason?: string }[] }>(
    url,
    'GET',
    '/v1/desk/agents',
    { token: viewer.token },
  );
  expect(listed.status).toBe(200);
  return listed.body.agents.find((entry) => entry.id === agent.id);
}

async function setPresence(url: string, agent: TestAgent, presence: string) {
  expect((await call(url, 'POST', '/v1/desk/presence', { token: agent.token, body: { presence } })).status).toBe(200);
}

describe('presence follows the console (one process, SQLite)', () => {
  let database: TestDatabase;
  let server: BatonServer;
  let sam: TestAgent;
  let ana: TestAgent;
  const open: DeskConsole[] = [];
  const consoleFor = async (agent: TestAgent) => {
    const desk = await openDeskConsole(server.url, agent);
    open.push(desk);
    return desk;
  };

  beforeAll(async () => {
    database = testDatabase('sqlite');
    server = await startServer(database.env, {
      offerTtlMs: 120_000,
      tickMs: 50,
      consoleGraceMs: GRACE_MS,
      consoleCheckMs: CHECK_MS,
    });
    sam = await addAgent(server, { id: 'a_sam', name: 'Sam', capacity: 1 });
    ana = await addAgent(server, { id: 'a_ana', name: 'Ana', capacity: 1 });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((desk) => desk.close()));
    await setPresence(server.url, sam, 'offline');
    await setPresence(server.url, ana, 'offline');
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('takes an agent whose console closed offline, moves their offer on, and brings them back when it reopens', async () => {
    const url = server.url;
    const samDesk = await consoleFor(sam);
    await setPresence(url, sam, 'online');
    const customer = await startConversation(url, 'My order never arrived.');
    expect(
      (
        await call(url, 'POST', `/v1/conversations/${customer.conversationId}/handoff`, {
          customerToken: customer.customerToken,
          body: {},
        })
      ).status,
    ).toBe(201);
    await eventually(
      async () => samDesk.notices.some((notice) => notice.name === 'offer' && notice.payload.state === 'open'),
      'the offer on Sam’s console',
    );
    const anaDesk = await consoleFor(ana);
    await setPresence(url, ana, 'online');

    // Sam's console goes away (tab closed, network gone): the offer must not wait out its 2 minutes.
    await samDesk.close();
    await eventually(async () => (await presenceOf(server, sam)) === 'offline', 'Sam offline');
    const offered = await eventually(
      async () =>
        anaDesk.notices.find(
          (notice) =>
            notice.name === 'offer' &&
            notice.payload.state === 'open' &&
            notice.payload.conversationId === customer.conversationId,
        ),
      'the offer moved on to Ana',
    );
    expect(offered.payload.agentId).toBe(ana.id);
    const log = await events(url, customer.conversationId, ana.token);
    expect(log.some((event) => event.type === 'handoff.expired' && event.agentId === sam.id)).toBe(true);
    // The desk hears why Sam went offline.
    expect(
      anaDesk.notices.find((notice) => notice.name === 'presence' && notice.payload.agentId === sam.id)?.payload,
    ).toMatchObject({ presence: 'offline', reason: 'console_closed' });
    // So does a supervisor who opens the desk later: the reason is kept with the presence.
    expect((await agentView(url, ana, sam))?.presenceReason).toBe('console_closed');

    // Sam's console is back (reload, reconnect): Sam is online again.
    await consoleFor(sam);
    await eventually(async () => (await presenceOf(server, sam)) === 'online', 'Sam online again');
    // Presence Sam chooses carries no reason.
    await setPresence(url, sam, 'away');
    expect(await agentView(url, ana, sam)).toMatchObject({ presence: 'away' });
    expect((await agentView(url, ana, sam))?.presenceReason).toBeUndefined();
  });

  it('hands a console that opens the offers made to its agent before it listened, and says when it listens', async () => {
    const url = server.url;
    // Online with no console yet (a reconnect, a console still connecting): the offer is made all the same.
    await setPresence(url, sam, 'online');
    const customer = await startConversation(url, 'I was charged twice for my order.');
    await call(url, 'POST', `/v1/conversations/${customer.conversationId}/handoff`, {
      customerToken: customer.customerToken,
      body: {},
    });
    await eventually(
      async () =>
        (await events(url, customer.conversationId, sam.token)).some((event) => event.type === 'handoff.offered'),
      'the offer to Sam',
    );
    const samDesk = await consoleFor(sam);
    const offer = await eventually(
      async () =>
        samDesk.notices.find(
          (notice) =>
            notice.name === 'offer' &&
            notice.payload.state === 'open' &&
            notice.payload.conversationId === customer.conversationId,
        ),
      'the offer announced again to the console that opened',
    );
    // With its brief, as when it was made, and after the console heard that it listens.
    expect(offer.payload.brief).toHaveProperty('reason');
    const names = samDesk.notices.map((notice) => notice.name);
    expect(names.indexOf('desk.subscribed')).toBeGreaterThanOrEqual(0);
    expect(names.indexOf('desk.subscribed')).toBeLessThan(names.indexOf('offer'));
  });

  it('keeps an agent online while another of their consoles is open, and through a quick reconnect', async () => {
    const first = await consoleFor(sam);
    const second = await consoleFor(sam);
    await setPresence(server.url, sam, 'online');
    await first.close();
    await sleep(SETTLE_MS);
    expect(await presenceOf(server, sam)).toBe('online');

    // A reload: the console closes and opens again within the grace period.
    await second.close();
    await consoleFor(sam);
    await sleep(SETTLE_MS);
    expect(await presenceOf(server, sam)).toBe('online');
  });

  it('never overrides what the agent chose: away stays away through a disconnect and a reconnect', async () => {
    const desk = await consoleFor(sam);
    await setPresence(server.url, sam, 'away');
    await desk.close();
    await sleep(SETTLE_MS);
    expect(await presenceOf(server, sam)).toBe('away');
    await consoleFor(sam);
    await sleep(SETTLE_MS);
    expect(await presenceOf(server, sam)).toBe('away');
  });
});

describe('presence follows the console across two processes (PostgreSQL, Redis)', () => {
  let database: TestDatabase;
  let servers: BatonServer[] = [];
  let sam: TestAgent;

  beforeAll(async () => {
    database = testDatabase('postgres');
    const settings = { offerTtlMs: 120_000, tickMs: 50, consoleGraceMs: GRACE_MS, consoleCheckMs: CHECK_MS };
    // One after the other: the first migrates the schema.
    const first = await startServer({ ...database.env, REDIS_URL }, settings);
    const second = await startServer({ ...database.env, REDIS_URL }, settings);
    servers = [first, second];
    sam = await addAgent(first, { id: 'a_sam_cluster', name: 'Sam', capacity: 1 });
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await database?.drop();
  });

  it('asks the other process before taking an agent offline, and any process brings them back', async () => {
    const [first, second] = servers as [BatonServer, BatonServer];
    const here = await openDeskConsole(first.url, sam);
    const there = await openDeskConsole(second.url, sam);
    try {
      await setPresence(first.url, sam, 'online');
      // The console on the first process closes; the one on the second still counts.
      await here.close();
      await sleep(SETTLE_MS);
      expect(await presenceOf(first, sam)).toBe('online');

      // The last one closes: the second process takes Sam offline.
      await there.close();
      await eventually(async () => (await presenceOf(first, sam)) === 'offline', 'Sam offline');
      // Sam comes back through the first process; the second, which took Sam offline, hears it.
      const again = await openDeskConsole(first.url, sam);
      try {
        await eventually(async () => (await presenceOf(first, sam)) === 'online', 'Sam online again');
      } finally {
        await again.close();
      }
    } finally {
      await Promise.all([here.close(), there.close()]);
    }
  });
});
