/**
 * The server's write path, measured: POST /v1/conversations/:id/messages over HTTP (client in the same
 * process) and ConversationService.append in-process, on a temp SQLite file, without the AI runtime or
 * routing reacting. `npx tsx scripts/measure-write-path.ts [messages]`. Latencies are machine-dependent:
 * read them beside `uptime`; `baton bench` measures the whole product against a baseline.
 */
import { authRoutes } from '../packages/server/src/app/routes/auth-routes.ts';
import { conversationRoutes } from '../packages/server/src/app/routes/conversations.ts';
import { healthRoutes } from '../packages/server/src/app/routes/health.ts';
import { streamRoutes } from '../packages/server/src/app/routes/stream.ts';
import { startTestServer } from '../packages/server/test/helpers.ts';

const messages = Number(process.argv[2] ?? 2000);
const server = await startTestServer({
  modules: [healthRoutes, authRoutes, conversationRoutes, streamRoutes],
  seed: false,
});
const conversations: { id: string; token: string }[] = [];
for (let index = 0; index < 100; index++) {
  const response = await fetch(`${server.url}/v1/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'hi' }),
  });
  const body = (await response.json()) as { conversation: { id: string }; customerToken: string };
  conversations.push({ id: body.conversation.id, token: body.customerToken });
}
const overHttp: number[] = [];
const inProcess: number[] = [];
for (let index = 0; index < messages; index++) {
  const conversation = conversations[index % conversations.length]!;
  let start = performance.now();
  const response = await fetch(`${server.url}/v1/conversations/${conversation.id}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-customer-token': conversation.token },
    body: JSON.stringify({ text: `message ${index}` }),
  });
  await response.arrayBuffer();
  overHttp.push(performance.now() - start);
  start = performance.now();
  await server.server.deps.service.append(
    conversation.id,
    [{ type: 'message', author: 'customer', text: `direct ${index}` }],
    { kind: 'customer' },
  );
  inProcess.push(performance.now() - start);
}
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
};
console.log(
  `HTTP POST message: p50 ${quantile(overHttp, 0.5)} ms, p99 ${quantile(overHttp, 0.99)} ms; ` +
    `service.append: p50 ${quantile(inProcess, 0.5)} ms, p99 ${quantile(inProcess, 0.99)} ms ` +
    `(${messages} each, SQLite, 100 conversations)`,
);
await server.close();
