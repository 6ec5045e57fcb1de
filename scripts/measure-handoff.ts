/**
 * One handoff at a time on an idle server: the customer asks for a person (the AI hands off), and the
 * clock stops when the offer, with its brief, reaches the agent's socket. The floor under the bench's
 * handoff latency, without load. In-process server on a temp SQLite file, client in the same process.
 *
 *   npx tsx scripts/measure-handoff.ts [handoffs=60] [sqlite|postgres]
 *
 * With `postgres`, the server uses a fresh database on the local PostgreSQL (as the tests do).
 */
import { WebSocket } from 'ws';
import { startTestServer } from '../packages/server/test/helpers.ts';
import { addAgent, call } from '../packages/server/test/support/desk-harness.ts';

const count = Number(process.argv[2] ?? 60);
const test = await startTestServer({
  seed: false,
  ...(process.argv[3] === 'postgres' ? { database: 'postgres' } : {}),
});
const { server, url } = test;
const agent = await addAgent(server, {
  id: 'a_measure',
  name: 'Measure',
  capacity: 5,
  skills: ['billing', 'technical'],
});
const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, {
  headers: { authorization: `Bearer ${agent.token}` },
});
await new Promise((resolve) => socket.once('open', resolve));
const offers = new Map<string, (at: number) => void>();
const offeredAt = new Map<string, number>();
socket.on('message', (data) => {
  const at = performance.now();
  const frame = JSON.parse(data.toString()) as { type: string; name?: string; payload?: Record<string, unknown> };
  if (frame.type === 'desk' && frame.name === 'offer' && frame.payload?.state === 'open' && frame.payload.brief) {
    const id = String(frame.payload.conversationId);
    offeredAt.set(id, at);
    offers.get(id)?.(at);
  }
});
socket.send(JSON.stringify({ type: 'subscribe_desk' }));
await call(url, 'POST', '/v1/desk/presence', { token: agent.token, body: { presence: 'online' } });

const samples: number[] = [];
for (let index = 0; index < count; index++) {
  const created = await call<{ conversation: { id: string }; customerToken: string }>(
    url,
    'POST',
    '/v1/conversations',
    {
      body: { industry: 'ecommerce', text: 'Hello, I have a question about my account.' },
    },
  );
  const id = created.body.conversation.id;
  await new Promise((resolve) => setTimeout(resolve, 30));
  if (offeredAt.has(id)) {
    console.log(`the AI handed ${id} off on its first message already: not a sample`);
    continue;
  }
  const offered = new Promise<number>((resolve) => offers.set(id, resolve));
  const started = performance.now();
  await call(url, 'POST', `/v1/conversations/${id}/messages`, {
    customerToken: created.body.customerToken,
    body: { text: 'This is useless, I want to talk to a real person now.' },
  });
  samples.push((await offered) - started);
  await call(url, 'POST', `/v1/conversations/${id}/accept`, { token: agent.token });
  await call(url, 'POST', `/v1/conversations/${id}/resolve`, { token: agent.token, body: {} });
}
samples.sort((a, b) => a - b);
const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(2);
console.log(
  `${count} handoffs, trigger message → offer with brief on the agent's socket: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`,
);
socket.close();
await test.close();
