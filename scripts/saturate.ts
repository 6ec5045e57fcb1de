/**
 * The write path under saturation, alone: one Baton server process (exactly as `baton bench` starts it,
 * embedded SQLite, AI runtime on), 200 conversations (by default) each with a customer socket, then `concurrency`
 * closed-loop senders posting customer messages for `seconds`. Prints messages/s and the server's CPU
 * per customer message (each one also gets an AI reply). A quick loop for profiling the hot path; the
 * bench is the measurement of record.
 *
 *   npx tsx scripts/saturate.ts [seconds=8] [concurrency=32] [conversations=200] [--cpu-prof DIR]
 *
 * With 200 conversations each one grows by ~300 messages in 8 s, so the AI's turns (which go over the
 * customer's messages since the last hand-back) weigh more than in the bench, whose saturation phase
 * spreads over ~700 conversations: pass 1000 to profile a mix closer to the bench's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { loadCustomerScripts } from '../packages/cli/src/bench/customer-scripts.ts';
import { HttpClient } from '../packages/cli/src/bench/http-client.ts';
import { forkTypeScript, nextMessage, stopProcess } from '../packages/cli/src/bench/process-handle.ts';

const args = process.argv.slice(2);
const profIndex = args.indexOf('--cpu-prof');
const profDir = profIndex >= 0 ? args.splice(profIndex, 2)[1] : undefined;
const seconds = Number(args[0] ?? 8);
const concurrency = Number(args[1] ?? 32);
const conversationCount = Number(args[2] ?? 200);
const dataDir = mkdtempSync(join(tmpdir(), 'baton-saturate-'));
const child = forkTypeScript(
  './baton-server-process.ts',
  { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', BATON_DATA_DIR: dataDir },
  profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
);
const { url } = await nextMessage(
  child,
  (m) => (typeof m === 'object' && m && 'url' in m ? (m as { url: string }) : undefined),
  120_000,
  'server',
);
const cpuMs = () => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};
const http = new HttpClient();
const lines = loadCustomerScripts().flatMap((script) => script.lines);
const conversations: { id: string; token: string; socket: WebSocket }[] = [];
for (let index = 0; index < conversationCount; index++) {
  const created = (await http.send('POST', `${url}/v1/conversations`, { industry: 'ecommerce' })).body as {
    conversation: { id: string };
    customerToken: string;
  };
  const socket = new WebSocket(
    `${url.replace(/^http/, 'ws')}/v1/stream?customerToken=${created.customerToken}&conversationId=${created.conversation.id}`,
  );
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'subscribe', conversationId: created.conversation.id, after: 0 }));
  conversations.push({ id: created.conversation.id, token: created.customerToken, socket });
}
await new Promise((resolve) => setTimeout(resolve, 500));
let sent = 0;
let failed = 0;
let cursor = 0;
const cpuBefore = cpuMs();
const started = performance.now();
const end = started + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const index = cursor++;
      const conversation = conversations[index % conversations.length]!;
      const response = await http.send(
        'POST',
        `${url}/v1/conversations/${conversation.id}/messages`,
        { text: lines[index % lines.length] },
        { 'x-customer-token': conversation.token },
      );
      if (response.status === 201) sent++;
      else failed++;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
await new Promise((resolve) => setTimeout(resolve, 1000));
const cpu = cpuMs() - cpuBefore;
console.log(
  `${sent} messages in ${elapsed.toFixed(1)} s: ${(sent / elapsed).toFixed(0)}/s, ${failed} failed; ` +
    `server CPU ${(cpu / sent).toFixed(3)} ms per customer message (with its AI turn)`,
);
for (const conversation of conversations) conversation.socket.terminate();
http.close();
await stopProcess(child);
rmSync(dataDir, { recursive: true, force: true });
