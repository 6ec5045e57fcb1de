import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatonServer } from '../src/app/server.ts';
import {
  addAgent,
  call,
  REDIS_URL,
  startConversation,
  startServer,
  type TestAgent,
  type TestDatabase,
  testDatabase,
  waitForEvent,
} from './support/desk-harness.ts';

/**
 * Routing passes run on one leading process; the others hand it their kicks over the bus. The tick is a
 * minute long here, so after start-up only a kick (or a leader handing on) can route anything within
 * the test's patience: a handoff offered on time proves the way it got there.
 */
describe('routing leadership across server processes (PostgreSQL + Redis)', () => {
  let database: TestDatabase;
  const servers = new Map<string, BatonServer>();
  let agent: TestAgent;

  const start = async (name: string) => {
    const server = await startServer(
      { ...database.env, REDIS_URL },
      { tickMs: 60_000, offerTtlMs: 120_000, consoleGraceMs: 0 },
    );
    servers.set(name, server);
    return server;
  };

  const close = async (name: string) => {
    await servers.get(name)?.close();
    servers.delete(name);
  };

  /** A customer on `name` asks for a person; resolves once the handoff is offered to the agent. */
  const handOffOn = async (name: string) => {
    const url = servers.get(name)!.url;
    const customer = await startConversation(url, 'hello');
    const reply = await call(url, 'POST', `/v1/conversations/${customer.conversationId}/handoff`, {
      customerToken: customer.customerToken,
      body: {},
    });
    expect(reply.status).toBe(201);
    const offered = await waitForEvent(url, customer.conversationId, agent.token, 'handoff.offered');
    expect(offered.agentId).toBe(agent.id);
  };

  beforeAll(async () => {
    database = testDatabase('postgres');
    const a = await start('a');
    await start('b');
    agent = await addAgent(a, { id: 'a_lee', name: 'Lee', capacity: 20 });
    const online = await call(a.url, 'POST', '/v1/desk/presence', { token: agent.token, body: { presence: 'online' } });
    expect(online.status).toBe(200);
  });

  afterAll(async () => {
    for (const name of [...servers.keys()]) await close(name);
    await database?.drop();
  });

  it('routes a handoff asked for on either process, the one that does not lead handing its kick on', async () => {
    // One after the other: the leader's pass for one must not be what routes the other.
    await handOffOn('a');
    await handOffOn('b');
  });

  it('hands leadership on at once when the leader stops, to a process that joined later', async () => {
    await start('c');
    // Whichever of a and b led, b leads once a has stopped: c joined while one of them held it.
    await close('a');
    await handOffOn('b');
    await handOffOn('c');
    await close('b');
    await handOffOn('c');
  });
});
