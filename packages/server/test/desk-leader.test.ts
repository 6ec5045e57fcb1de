import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BatonServer } from '../src/app/server.ts';
import { ROUTING_TOPIC } from '../src/routing/router.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  it('has the leader load a conversation as soon as a kick names it, beside the pass that offers it', async () => {
    // A conversation no process has cached, and nobody waits on: only the kick's warm-up makes one read it.
    const conversationId = `c_warm_${Date.now()}`;
    await servers.get('a')!.deps.store.createConversation({
      id: conversationId,
      industry: 'telecom',
      channel: 'api',
      customerTokenHash: 'unused',
      owner: { kind: 'ai' },
    });
    const loads = new Map<string, string[]>();
    const spies = [...servers].map(([name, server]) => {
      const store = server.deps.store;
      const read = store.getConversation.bind(store);
      loads.set(name, []);
      return vi.spyOn(store, 'getConversation').mockImplementation((id) => {
        loads.get(name)!.push(id);
        return read(id);
      });
    });
    try {
      const warmed = () => [...loads].filter(([, ids]) => ids.includes(conversationId)).map(([name]) => name);
      await servers.get('b')!.deps.bus.publish(ROUTING_TOPIC, {
        kind: 'desk',
        name: 'kick',
        payload: { conversationId },
      });
      for (let waited = 0; warmed().length === 0 && waited < 5000; waited += 20) await sleep(20);
      // Exactly one process, the leader, follows kicks: the others ignore them.
      expect(warmed()).toHaveLength(1);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
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
