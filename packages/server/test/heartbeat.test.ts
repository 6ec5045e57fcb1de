import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type Beating, Heartbeat } from '../src/app/routes/heartbeat.ts';

interface Peer extends Beating {
  readonly socket: WebSocket;
  pings: number;
  pingedAt: number[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real WebSocket server whose connections are watched by a heartbeat of the given period. */
async function serve(periodMs: number, slices: number) {
  const heartbeat = new Heartbeat<Peer>(periodMs, slices);
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const peers: Peer[] = [];
  server.on('connection', (socket) => {
    const peer: Peer = { socket, alive: true, pings: 0, pingedAt: [] };
    const ping = socket.ping.bind(socket);
    Object.defineProperty(socket, 'ping', {
      value: () => {
        peer.pings += 1;
        peer.pingedAt.push(performance.now());
        ping();
      },
    });
    socket.on('pong', () => {
      peer.alive = true;
    });
    socket.on('close', () => heartbeat.delete(peer));
    peers.push(peer);
    heartbeat.add(peer);
  });
  cleanups.push(
    () => heartbeat.stop(),
    () => new Promise<void>((resolve) => server.close(() => resolve())),
  );
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { heartbeat, peers, url };
}

async function connect(url: string, autoPong: boolean): Promise<WebSocket> {
  const socket = new WebSocket(url, { autoPong });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  cleanups.push(() => socket.terminate());
  return socket;
}

const until = async (condition: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('the stream heartbeat', () => {
  it('keeps clients that answer pings and drops those that stopped answering', async () => {
    const { heartbeat, peers, url } = await serve(200, 4);
    const answering = await connect(url, true);
    const silent = await connect(url, false);
    await until(() => peers.length === 2);
    const closed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));

    // Two periods: the silent one was pinged, did not answer, and is terminated on its next turn.
    expect(await closed).toBe(1006);
    await until(() => heartbeat.size === 1);
    expect(answering.readyState).toBe(WebSocket.OPEN);
    const [kept] = peers;
    await until(() => (kept?.pings ?? 0) >= 3);
    expect(answering.readyState).toBe(WebSocket.OPEN);
  });

  it('pings a slice of the connections at a time, each once a period', async () => {
    const slices = 5;
    const { peers, url } = await serve(1000, slices);
    for (let index = 0; index < 20; index++) await connect(url, true);
    await until(() => peers.length === 20);
    await new Promise((resolve) => setTimeout(resolve, 950));
    // Pings sent together (within 50 ms; the slices are 200 ms apart) form one batch.
    const times = peers.flatMap((peer) => peer.pingedAt).sort((x, y) => x - y);
    const batches: number[] = [];
    times.forEach((at, index) => {
      if (index === 0 || at - (times[index - 1] as number) > 50) batches.push(0);
      batches[batches.length - 1] = (batches.at(-1) as number) + 1;
    });
    // Never all twenty in one go: four at a time (20 connections over 5 slices), every 200 ms.
    expect(Math.max(...batches)).toBeLessThanOrEqual(20 / slices);
    expect(times.length).toBeGreaterThanOrEqual(12);
    expect(peers.every((peer) => peer.pings <= 1)).toBe(true);
  });
});
