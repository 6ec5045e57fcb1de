/**
 * Child process: the bare baseline. A plain `node:http` server and a `ws` WebSocket server on one port,
 * doing the least a chat server can do: `POST /deliver` parses the JSON and pushes it to the named
 * socket, and every WebSocket frame is echoed back. No persistence, no auth, no logic: what is left is
 * the cost of Node, HTTP and WebSocket on this machine right now, measured by the same load processes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';

const Delivery = z.object({ to: z.string(), text: z.string() });

const sockets = new Map<string, WebSocket>();
let seq = 0;

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (request.method !== 'POST' || request.url !== '/deliver') {
    response.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const parsed = Delivery.safeParse(safeJson(Buffer.concat(chunks).toString('utf8')));
    if (!parsed.success) {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"invalid_input"}}');
      return;
    }
    seq += 1;
    const event = { conversationId: parsed.data.to, seq, type: 'message', author: 'customer', text: parsed.data.text };
    sockets.get(parsed.data.to)?.send(JSON.stringify({ type: 'event', event }));
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ event }));
  });
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (socket, request) => {
  const id = new URL(request.url ?? '/', 'http://localhost').searchParams.get('id') ?? '';
  sockets.set(id, socket);
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('close', () => {
    if (sockets.get(id) === socket) sockets.delete(id);
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'listening', url: `http://127.0.0.1:${port}`, pid: process.pid });
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const shutdown = () => {
  for (const socket of wss.clients) socket.terminate();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('disconnect', shutdown);
