import { StoredEvent } from '@baton/core';
import { z } from 'zod';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

const ServerFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('event'), event: z.unknown() }),
  z.object({ type: z.literal('desk'), name: z.string(), payload: z.unknown() }),
  z.object({
    type: z.literal('typing'),
    conversationId: z.string(),
    author: z.string(),
    typing: z.boolean(),
    authorName: z.string().optional(),
  }),
  z.object({ type: z.literal('error'), error: z.object({ code: z.string(), message: z.string() }) }),
  z.object({ type: z.literal('pong') }),
  z.looseObject({ type: z.literal('ready') }),
]);

export interface DeskFrame {
  name: string;
  payload: unknown;
}

export interface TypingFrame {
  conversationId: string;
  author: string;
  typing: boolean;
  name?: string;
}

export interface StreamListener {
  event?: (event: StoredEvent) => void;
  desk?: (frame: DeskFrame) => void;
  typing?: (frame: TypingFrame) => void;
  state?: (state: ConnectionState) => void;
  error?: (error: { code: string; message: string }) => void;
}

export interface StreamOptions {
  /** Builds the WebSocket URL with credentials: `?token=` for agents, `?customerToken=&conversationId=` for customers. */
  url: () => string;
  /** Subscribe to offers, queue and presence changes (agents and supervisors). */
  desk?: boolean;
  heartbeatMs?: number;
}

const MAX_BACKOFF_MS = 8000;
/** Close code of a socket whose agent session has ended (docs/protocol.md). */
const SESSION_ENDED = 4401;

/**
 * A WebSocket client for `/v1/stream` that never loses or repeats an event: it remembers the highest
 * seq seen per conversation, resubscribes with `after` on every reconnect, and drops anything at or
 * below that seq.
 */
export class BatonStream {
  private socket: WebSocket | null = null;
  private readonly lastSeq = new Map<string, number>();
  private readonly listeners = new Set<StreamListener>();
  private state: ConnectionState = 'connecting';
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private awaitingPong = false;
  private closedByUser = false;

  /** Call `open()` to connect; a stream can be closed and opened again (React effects do both). */
  constructor(private readonly options: StreamOptions) {}

  open(): void {
    if (this.socket || this.reconnectTimer) return;
    this.closedByUser = false;
    this.attempt = 0;
    if (typeof window !== 'undefined') {
      window.addEventListener('offline', this.onOffline);
      window.addEventListener('online', this.onOnline);
    }
    this.setState('connecting');
    this.connect();
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  listen(listener: StreamListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts (or resumes) a conversation's events after `after`, or after the highest seq already seen. */
  subscribe(conversationId: string, after?: number): void {
    const known = this.lastSeq.get(conversationId);
    const from = Math.max(known ?? 0, after ?? 0);
    this.lastSeq.set(conversationId, from);
    this.send({ type: 'subscribe', conversationId, after: from });
  }

  unsubscribe(conversationId: string): void {
    if (!this.lastSeq.has(conversationId)) return;
    this.lastSeq.delete(conversationId);
    this.send({ type: 'unsubscribe', conversationId });
  }

  isSubscribed(conversationId: string): boolean {
    return this.lastSeq.has(conversationId);
  }

  seenUpTo(conversationId: string): number {
    return this.lastSeq.get(conversationId) ?? 0;
  }

  typing(conversationId: string, typing: boolean): void {
    this.send({ type: 'typing', conversationId, typing });
  }

  close(): void {
    this.closedByUser = true;
    if (typeof window !== 'undefined') {
      window.removeEventListener('offline', this.onOffline);
      window.removeEventListener('online', this.onOnline);
    }
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.setState('closed');
  }

  private connect(): void {
    if (this.closedByUser) return;
    this.clearTimers();
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.options.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.setState('open');
      if (this.options.desk) this.send({ type: 'subscribe_desk' });
      for (const [conversationId, after] of this.lastSeq) this.send({ type: 'subscribe', conversationId, after });
      this.startHeartbeat();
    });
    socket.addEventListener('message', (message) => {
      if (this.socket !== socket) return;
      this.awaitingPong = false;
      if (typeof message.data === 'string') this.receive(message.data);
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === SESSION_ENDED) {
        // Reconnecting cannot help: the session is over. Listeners send the agent back to sign in.
        this.close();
        for (const listener of this.listeners)
          listener.error?.({ code: 'unauthorized', message: 'Your session has ended. Sign in again.' });
        return;
      }
      this.scheduleReconnect();
    });
    socket.addEventListener('error', () => {
      // A 'close' always follows; reconnecting happens there.
    });
  }

  private receive(data: string): void {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    const frame = ServerFrame.safeParse(json);
    if (!frame.success) return;
    const value = frame.data;
    switch (value.type) {
      case 'event': {
        const event = StoredEvent.safeParse(value.event);
        if (event.success) this.acceptEvent(event.data as StoredEvent);
        return;
      }
      case 'desk':
        for (const listener of this.listeners) listener.desk?.({ name: value.name, payload: value.payload });
        return;
      case 'typing':
        for (const listener of this.listeners)
          listener.typing?.({
            conversationId: value.conversationId,
            author: value.author,
            typing: value.typing,
            ...(value.authorName ? { name: value.authorName } : {}),
          });
        return;
      case 'error':
        for (const listener of this.listeners) listener.error?.(value.error);
        return;
      default:
        return;
    }
  }

  private acceptEvent(event: StoredEvent): void {
    const seen = this.lastSeq.get(event.conversationId);
    if (seen === undefined) return;
    // The server sends each subscription in seq order and exactly once; a customer's view skips staff-only
    // events, so a jump in seq is normal and only a repeat (after a resume) is dropped.
    if (event.seq <= seen) return;
    this.lastSeq.set(event.conversationId, event.seq);
    for (const listener of this.listeners) listener.event?.(event);
  }

  private send(frame: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.listeners) listener.state?.(state);
  }

  private scheduleReconnect(): void {
    this.clearTimers();
    if (this.closedByUser) return;
    this.setState('reconnecting');
    const delay = Math.min(MAX_BACKOFF_MS, 400 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** A half-open socket (laptop lid, lost Wi-Fi) never closes by itself: a missed pong closes it. */
  private startHeartbeat(): void {
    const every = this.options.heartbeatMs ?? 15_000;
    this.awaitingPong = false;
    this.heartbeatTimer = setInterval(() => {
      if (this.awaitingPong) {
        this.dropSocket();
        return;
      }
      this.awaitingPong = true;
      this.send({ type: 'ping' });
    }, every);
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.scheduleReconnect();
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.reconnectTimer = null;
    this.heartbeatTimer = null;
  }

  private readonly onOffline = (): void => {
    if (this.socket) this.dropSocket();
  };

  private readonly onOnline = (): void => {
    this.attempt = 0;
    if (!this.socket) this.connect();
  };
}

export function streamUrl(params: Record<string, string>): string {
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = new URLSearchParams(params).toString();
  return `${protocol}//${location.host}/v1/stream${query ? `?${query}` : ''}`;
}
