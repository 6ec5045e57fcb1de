import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { BatonError, maskEvent, type StoredEvent } from '@baton/core';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { BusMessage } from '../../bus/bus.ts';
import { type Principal, SESSION_COOKIE } from '../auth.ts';
import { conversationTopic, DESK_TOPIC, deskAgentTopic } from '../conversation-service.ts';
import { toBatonError } from '../http-errors.ts';
import type { RouteDeps, RouteModule } from '../route-module.ts';
import { authorizeRead, isVisibleTo, viewDetail, viewerOf } from './conversations.ts';
import { Heartbeat } from './heartbeat.ts';

const ConversationId = z.string().min(1).max(120);

const ClientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), conversationId: ConversationId, after: z.number().int().min(0).default(0) }),
  z.object({ type: z.literal('unsubscribe'), conversationId: ConversationId }),
  z.object({ type: z.literal('subscribe_desk') }),
  z.object({ type: z.literal('typing'), conversationId: ConversationId, typing: z.boolean() }),
  z.object({ type: z.literal('ping') }),
]);

export type ServerFrame =
  | { type: 'event'; event: StoredEvent }
  | { type: 'desk'; name: string; payload: Record<string, unknown> }
  | { type: 'typing'; conversationId: string; author: string; authorName?: string; typing: boolean }
  | { type: 'subscribed'; conversationId: string; lastSeq: number }
  | { type: 'error'; error: { code: string; message: string; conversationId?: string } }
  | { type: 'pong' };

/** Typing indicators are relayed on the conversation's topic and never stored. */
const TYPING = 'typing';
const PAGE = 500;
const MAX_SUBSCRIPTIONS = 500;
const HEARTBEAT_MS = 30_000;
/** A client this far behind is dropped; it resumes from its last seq when it reconnects. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Frames held back to leave in one write are written once they reach this size (see `Connection`). */
const CORKED_BYTES = 64 * 1024;

/**
 * The same event or desk notice goes to many sockets, one after another in one synchronous fan-out:
 * serialise it once. Only the last few sources are remembered (by identity), so no text outlives its
 * fan-out. A WeakMap keyed by the event kept each text for as long as the event lived, and events stay
 * cached for the AI's turns: every frame's text was kept with them and promoted to the old generation.
 */
export const RECENT_FRAMES = 8;
const recentSources: (object | undefined)[] = new Array(RECENT_FRAMES).fill(undefined);
const recentTexts: string[] = new Array(RECENT_FRAMES).fill('');
let recentNext = 0;

export function frameText(source: object, serialise: () => string): string {
  for (let index = 0; index < RECENT_FRAMES; index++) {
    if (recentSources[index] === source) return recentTexts[index] as string;
  }
  const text = serialise();
  recentSources[recentNext] = source;
  recentTexts[recentNext] = text;
  recentNext = (recentNext + 1) % RECENT_FRAMES;
  return text;
}

function eventFrameText(event: StoredEvent): string {
  return frameText(event, () => `{"type":"event","event":${JSON.stringify(event)}}`);
}

function deskFrameText(message: Extract<BusMessage, { kind: 'desk' }>): string {
  return frameText(message, () =>
    JSON.stringify({ type: 'desk', name: message.name, payload: message.payload } satisfies ServerFrame),
  );
}

class Connection {
  readonly id = randomUUID();
  readonly subscriptions = new Map<string, ConversationSubscription>();
  deskUnsubscribe: Promise<() => Promise<void>> | undefined;
  /** The agent whose console this is (subscribed to the desk), counted in `deps.consoles` until it closes. */
  consoleOf: string | undefined;
  alive = true;
  #corked = false;

  /**
   * `wire`: the TCP socket under the WebSocket. Frames sent to one connection in one go of the event loop
   * (a batch of events, a catch-up page, a notice with them) leave in one write: each write to a socket is
   * a system call that runs the whole TCP path; under the bench's load, WebSocket sends were a tenth of the
   * server's busy time.
   */
  constructor(
    readonly socket: WebSocket,
    readonly principal: Principal,
    readonly deps: RouteDeps,
    private readonly wire?: Pick<Duplex, 'cork' | 'uncork' | 'writableLength'>,
  ) {}

  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  /** Sends an already serialised frame (see `eventFrameText`, `deskFrameText`). */
  sendText(text: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.close(1013, 'too far behind: reconnect and resume');
      return;
    }
    const { wire } = this;
    if (wire && !this.#corked) {
      // Released once this go's code and its promise continuations have run: no frame waits for I/O.
      this.#corked = true;
      wire.cork();
      process.nextTick(() => {
        this.#corked = false;
        wire.uncork();
      });
    }
    this.socket.send(text);
    // A long catch-up in one go would otherwise sit in memory, and count against MAX_BUFFERED_BYTES, until the end.
    if (wire && this.#corked && wire.writableLength >= CORKED_BYTES) {
      wire.uncork();
      wire.cork();
    }
  }

  fail(error: unknown, conversationId?: string): void {
    const baton = toBatonError(error);
    if (baton.code === 'internal') this.deps.logger.error({ err: error, conversationId }, 'stream failure');
    this.send({
      type: 'error',
      error: { code: baton.code, message: baton.message, ...(conversationId ? { conversationId } : {}) },
    });
  }

  async close(): Promise<void> {
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    await Promise.all(subscriptions.map((subscription) => subscription.close()));
    const desk = this.deskUnsubscribe;
    this.deskUnsubscribe = undefined;
    if (this.consoleOf) this.deps.consoles.closed(this.consoleOf);
    this.consoleOf = undefined;
    if (desk) await (await desk)();
  }
}

/**
 * One conversation on one socket, delivered exactly once and in order. The bus is joined before the
 * store is read, so nothing written in between is lost; everything goes through one promise chain,
 * and a live event that skips ahead of the last seq sent makes the gap be read from the store.
 */
class ConversationSubscription {
  #lastSeq: number;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    readonly connection: Connection,
    readonly conversationId: string,
    after: number,
  ) {
    this.#lastSeq = after;
  }

  start(): Promise<void> {
    const { bus } = this.connection.deps;
    this.#chain = (async () => {
      const unsubscribe = await bus.subscribe(conversationTopic(this.conversationId), (message) =>
        this.#onMessage(message),
      );
      if (this.#closed) {
        await unsubscribe();
        return;
      }
      this.#unsubscribe = unsubscribe;
      await this.#catchUp();
      this.connection.send({ type: 'subscribed', conversationId: this.conversationId, lastSeq: this.#lastSeq });
    })().catch((error: unknown) => this.connection.fail(error, this.conversationId));
    return this.#chain;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    if (unsubscribe) await unsubscribe();
  }

  #onMessage(message: BusMessage): void {
    if (this.#closed) return;
    if (message.kind === 'event') {
      this.#chain = this.#chain
        .then(() => this.#deliver(message.event))
        .catch((error: unknown) => this.connection.fail(error, this.conversationId));
      return;
    }
    if (message.name === TYPING && message.payload.origin !== this.connection.id) {
      const { author, authorName, typing } = message.payload;
      if (typeof author !== 'string' || typeof typing !== 'boolean') return;
      // Customers see that "the agent" types, and nothing about other staff.
      if (this.connection.principal.kind === 'customer' && author === 'customer') return;
      this.connection.send({
        type: 'typing',
        conversationId: this.conversationId,
        author,
        ...(typeof authorName === 'string' ? { authorName } : {}),
        typing,
      });
    }
  }

  async #deliver(event: StoredEvent): Promise<void> {
    if (this.#closed || event.seq <= this.#lastSeq) return;
    if (event.seq === this.#lastSeq + 1) {
      this.#send(event);
      return;
    }
    await this.#catchUp();
  }

  async #catchUp(): Promise<void> {
    const { store } = this.connection.deps;
    for (;;) {
      const events = await store.readEvents(this.conversationId, this.#lastSeq, PAGE);
      for (const event of events) {
        if (this.#closed) return;
        if (event.seq > this.#lastSeq) this.#send(event);
      }
      if (events.length < PAGE) return;
    }
  }

  #send(event: StoredEvent): void {
    this.#lastSeq = event.seq;
    const principal = this.connection.principal;
    if (!isVisibleTo(principal, event)) return;
    // The same field-level masking as the events route (S3): the console builds its brief from these.
    const shown = principal.kind === 'agent' ? maskEvent(event, viewerOf(principal)) : event;
    this.connection.sendText(eventFrameText(shown));
  }
}

async function handleFrame(connection: Connection, raw: string): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new BatonError('invalid_input', `malformed JSON frame: ${(error as Error).message}`);
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BatonError(
      'invalid_input',
      `frame${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message}`,
    );
  }
  const frame = parsed.data;
  const { principal, deps } = connection;
  if ((frame.type === 'subscribe' || frame.type === 'subscribe_desk') && !(await deps.auth.isStillValid(principal))) {
    connection.send({ type: 'error', error: { code: 'unauthorized', message: 'session expired: sign in again' } });
    connection.socket.close(4401, 'session expired');
    return;
  }
  switch (frame.type) {
    case 'ping':
      connection.send({ type: 'pong' });
      return;
    case 'subscribe': {
      const { conversation } = await deps.service.get(frame.conversationId);
      await authorizeRead(deps, principal, conversation, 'conversation.subscribed', {
        after: frame.after,
        ...viewDetail(principal),
      });
      await connection.subscriptions.get(frame.conversationId)?.close();
      if (connection.subscriptions.size >= MAX_SUBSCRIPTIONS) {
        throw new BatonError('rate_limited', `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
      }
      const subscription = new ConversationSubscription(connection, frame.conversationId, frame.after);
      connection.subscriptions.set(frame.conversationId, subscription);
      await subscription.start();
      return;
    }
    case 'unsubscribe': {
      const subscription = connection.subscriptions.get(frame.conversationId);
      connection.subscriptions.delete(frame.conversationId);
      await subscription?.close();
      return;
    }
    case 'subscribe_desk': {
      if (principal.kind !== 'agent') throw new BatonError('forbidden', 'the desk is for agents');
      // The whole desk's notices (queues, presence) and this agent's own (offers, with the brief).
      const relay = (message: BusMessage) => {
        if (message.kind === 'desk') connection.sendText(deskFrameText(message));
      };
      connection.deskUnsubscribe ??= Promise.all([
        deps.bus.subscribe(DESK_TOPIC, relay),
        deps.bus.subscribe(deskAgentTopic(principal.agent.id), relay),
      ]).then((unsubscribes) => async () => {
        await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe()));
      });
      await connection.deskUnsubscribe;
      // From here on nothing for this agent is missed: say so (a client may wait for it before it counts
      // on the desk), then count the console, which has the agent's open offers announced again to it.
      connection.send({ type: 'desk', name: 'desk.subscribed', payload: { agentId: principal.agent.id } });
      // Counted once per connection, and only while open: `close` (on the socket's close) uncounts it.
      if (connection.consoleOf === undefined && connection.socket.readyState === connection.socket.OPEN) {
        connection.consoleOf = principal.agent.id;
        deps.consoles.opened(principal.agent.id);
      }
      return;
    }
    case 'typing': {
      if (principal.kind === 'customer' && principal.conversationId !== frame.conversationId) {
        throw new BatonError('forbidden', 'this token opens another conversation');
      }
      const author = principal.kind === 'agent' ? 'agent' : principal.kind === 'bot' ? 'bot' : 'customer';
      await deps.bus.publish(conversationTopic(frame.conversationId), {
        kind: 'desk',
        name: TYPING,
        payload: {
          origin: connection.id,
          author,
          ...(principal.kind === 'agent' ? { authorName: principal.agent.name } : {}),
          typing: frame.typing,
        },
      });
      return;
    }
  }
}

/**
 * Browsers send the session cookie with a WebSocket handshake from any page of the same site, and
 * WebSockets have no CORS: a cookie-only handshake must come from a page of this server.
 */
async function rejectCrossSiteCookie(request: FastifyRequest): Promise<void> {
  const origin = request.headers.origin;
  const usesCookieOnly =
    request.cookies?.[SESSION_COOKIE] !== undefined &&
    !request.headers.authorization &&
    !/[?&](token|customerToken)=/.test(request.url);
  if (!origin || !usesCookieOnly) return;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new BatonError('forbidden', 'invalid Origin header');
  }
  if (originHost !== request.headers.host) {
    throw new BatonError('forbidden', `a session cookie is only accepted from pages of this server, not ${origin}`);
  }
}

export const streamRoutes: RouteModule = {
  name: 'stream',
  register(app, deps) {
    const connections = new Set<Connection>();
    const heartbeat = new Heartbeat<Connection>(HEARTBEAT_MS);

    app.addHook('onClose', async () => {
      heartbeat.stop();
      for (const connection of connections) connection.socket.close(1001, 'server shutting down');
      await Promise.all([...connections].map((connection) => connection.close()));
    });

    const authenticate = deps.auth.require('agent', 'customer', 'bot');
    app.get(
      '/v1/stream',
      {
        websocket: true,
        preHandler: [rejectCrossSiteCookie, authenticate],
        schema: { tags: ['stream'], summary: 'WebSocket: live events, desk notices, typing (docs/protocol.md)' },
      },
      (socket: WebSocket, request: FastifyRequest) => {
        const principal = request.principal;
        if (!principal) {
          socket.close(1008, 'unauthorized');
          return;
        }
        const connection = new Connection(socket, principal, deps, request.raw.socket);
        connections.add(connection);
        heartbeat.add(connection);
        socket.on('pong', () => {
          connection.alive = true;
        });
        // Frames of one connection are handled in arrival order, so "unsubscribe, subscribe" stays meaningful.
        let queue: Promise<void> = Promise.resolve();
        socket.on('message', (data, isBinary) => {
          connection.alive = true;
          const raw = isBinary ? '' : data.toString();
          queue = queue.then(() => handleFrame(connection, raw)).catch((error: unknown) => connection.fail(error));
        });
        socket.on('close', () => {
          connections.delete(connection);
          heartbeat.delete(connection);
          void connection.close().catch((error: unknown) => deps.logger.warn({ err: error }, 'stream close failed'));
        });
        socket.on('error', (error) => deps.logger.debug({ err: error }, 'stream socket error'));
      },
    );
  },
};
