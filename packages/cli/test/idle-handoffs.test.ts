import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { hashPassword } from '../../server/src/app/auth.ts';
import { createServer } from '../../server/src/app/server.ts';
import { loadConfig } from '../../server/src/config.ts';
import { HttpClient } from '../src/bench/http-client.ts';
import { idleHandoffs } from '../src/bench/probe-server.ts';

const HANDOFF_LINE = 'I need to speak to a manager';
const agent = { email: 'idle-probe@bench.baton.local', password: 'correct horse battery staple' };

describe('idle handoffs after a load', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof createServer>>;
  const http = new HttpClient(4);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-idle-'));
    server = await createServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', BATON_DATA_DIR: dir }));
    await server.deps.store.createAgent({
      id: 'agent_idle_probe',
      email: agent.email,
      name: 'Idle Probe',
      passwordHash: await hashPassword(agent.password),
      role: 'agent',
      skills: ['billing', 'technical', 'clinical'],
      languages: ['en'],
      // One slot: one conversation left over from the load fills it.
      capacity: 1,
      presence: 'online',
    });
  });

  afterAll(async () => {
    http.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes what the load left on the desk first, so each idle handoff finds a free agent', async () => {
    // The load's agent took a conversation and stopped (its console closed) before resolving it.
    const { url } = server;
    const token = z
      .object({ token: z.string() })
      .parse((await http.send('POST', `${url}/v1/auth/login`, agent)).body).token;
    const auth = { authorization: `Bearer ${token}` };
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, { headers: auth });
    const offered = new Promise<string>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as {
          name?: string;
          payload?: { conversationId?: string; state?: string };
        };
        if (frame.name === 'offer' && frame.payload?.state === 'open' && frame.payload.conversationId) {
          resolve(frame.payload.conversationId);
        }
      });
      socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe_desk' })));
    });
    const created = z
      .object({ conversation: z.object({ id: z.string() }), customerToken: z.string() })
      .parse((await http.send('POST', `${url}/v1/conversations`, { industry: 'other', customerName: 'Left' })).body);
    const customer = { 'x-customer-token': created.customerToken };
    await http.send(
      'POST',
      `${url}/v1/conversations/${created.conversation.id}/messages`,
      { text: 'Hi, my order is late.' },
      customer,
    );
    await http.send(
      'POST',
      `${url}/v1/conversations/${created.conversation.id}/messages`,
      { text: HANDOFF_LINE },
      customer,
    );
    const leftOver = await offered;
    expect((await http.send('POST', `${url}/v1/conversations/${leftOver}/accept`, {}, auth)).status).toBeLessThan(300);
    socket.close();

    const latencies = await idleHandoffs([url], HANDOFF_LINE, [agent], 2);
    expect(latencies).toHaveLength(2);
    for (const ms of latencies) expect(ms).toBeGreaterThan(0);
    const inbox = z
      .object({ owned: z.array(z.object({ conversationId: z.string() })) })
      .parse((await http.send('GET', `${url}/v1/desk/inbox`, undefined, auth)).body);
    expect(inbox.owned.map((entry) => entry.conversationId)).not.toContain(leftOver);
  }, 60_000);
});
