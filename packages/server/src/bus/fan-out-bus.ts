import { randomUUID } from 'node:crypto';
import { BatonError } from '@baton/core';
import pino, { type Logger } from 'pino';
import type { Bus, BusMessage } from './bus.ts';
import { BUS_PROTOCOL_VERSION, BusEnvelope } from './bus-envelope.ts';

export type BusHandler = (message: BusMessage) => void;

export interface FanOutBusOptions {
  logger?: Pick<Logger, 'error' | 'warn'>;
  /** Identifies this bus instance in envelopes; default a random UUID. */
  processId?: string;
}

interface TopicEntry {
  handlers: Set<BusHandler>;
  /** Settles once the transport listens on the topic; later subscribers wait for it too. */
  listening: Promise<void>;
}

/**
 * Everything a bus does except moving bytes between processes: handler bookkeeping, local delivery,
 * envelopes, lifecycle. Local subscribers get a message straight from `publish`, before it returns
 * and in publish order; the transport carries it to other processes, and a process drops its own
 * messages when they come back, so each subscriber sees each message exactly once.
 */
export abstract class FanOutBus implements Bus {
  abstract readonly shared: boolean;
  readonly processId: string;
  protected readonly logger: Pick<Logger, 'error' | 'warn'>;
  readonly #topics = new Map<string, TopicEntry>();
  #closed: Promise<void> | undefined;
  readonly #pending: { topic: string; message: BusMessage }[] = [];
  #delivering = false;
  /** How every envelope this instance encodes begins (see `encode`): its own, come back, start with it. */
  readonly #ownStart: string;

  constructor(options: FanOutBusOptions = {}) {
    this.logger = options.logger ?? pino({ name: 'bus' });
    this.processId = options.processId ?? randomUUID();
    this.#ownStart = `{"v":${BUS_PROTOCOL_VERSION},"processId":${JSON.stringify(this.processId)},`;
  }

  /**
   * An envelope on the wire. A transport sends this text as it is, so that `receive` can drop this
   * process's own messages (most of what a process hears back: it listens on the conversations it
   * publishes to) by their first characters, without parsing and validating them.
   */
  protected encode(envelope: BusEnvelope): string {
    return JSON.stringify({
      v: envelope.v,
      processId: envelope.processId,
      topic: envelope.topic,
      message: envelope.message,
    });
  }

  /** Sends an envelope to the other processes. */
  protected abstract send(envelope: BusEnvelope): Promise<void>;
  /** Starts receiving a topic from other processes. */
  protected abstract listen(topic: string): Promise<void>;
  protected abstract unlisten(topic: string): Promise<void>;
  /** Releases the transport's connections. */
  protected abstract shutdown(): Promise<void>;

  async publish(topic: string, message: BusMessage): Promise<void> {
    this.#assertOpen();
    this.#deliver(topic, message);
    await this.send({ v: BUS_PROTOCOL_VERSION, processId: this.processId, topic, message });
  }

  async subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>> {
    this.#assertOpen();
    let entry = this.#topics.get(topic);
    if (!entry) {
      entry = { handlers: new Set(), listening: this.listen(topic) };
      this.#topics.set(topic, entry);
    }
    // Each subscription gets its own wrapper so the same function subscribed twice is two subscriptions.
    const subscription: BusHandler = (message) => handler(message);
    entry.handlers.add(subscription);
    const current = entry;
    try {
      await current.listening;
    } catch (error) {
      current.handlers.delete(subscription);
      if (this.#topics.get(topic) === current && current.handlers.size === 0) this.#topics.delete(topic);
      throw new BatonError('unavailable', `bus could not subscribe to ${topic}`, { cause: error, isRetryable: true });
    }
    let subscribed = true;
    return async () => {
      if (!subscribed) return;
      subscribed = false;
      current.handlers.delete(subscription);
      if (current.handlers.size > 0 || this.#topics.get(topic) !== current) return;
      this.#topics.delete(topic);
      if (!this.#closed) await this.unlisten(topic);
    };
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#topics.clear();
      await this.shutdown();
    })();
    return this.#closed;
  }

  /** Called by the transport with a raw message from another process (or an echo of our own). */
  protected receive(raw: string): void {
    if (raw.startsWith(this.#ownStart)) return;
    let parsed: ReturnType<typeof BusEnvelope.safeParse>;
    try {
      parsed = BusEnvelope.safeParse(JSON.parse(raw));
    } catch (error) {
      this.logger.warn({ err: error }, 'bus: dropped a message that is not JSON');
      return;
    }
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues }, 'bus: dropped a malformed envelope');
      return;
    }
    const envelope = parsed.data;
    if (envelope.processId === this.processId) return;
    this.#deliver(envelope.topic, envelope.message as BusMessage);
  }

  /**
   * A handler may publish (a router appending in reaction to an event). Queueing instead of
   * recursing lets every subscriber see a message before the one it caused, so order holds.
   */
  #deliver(topic: string, message: BusMessage): void {
    this.#pending.push({ topic, message });
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let next = this.#pending.shift(); next; next = this.#pending.shift()) {
        const entry = this.#topics.get(next.topic);
        if (!entry) continue;
        for (const handler of [...entry.handlers]) {
          try {
            handler(next.message);
          } catch (error) {
            // One failing subscriber must not starve the others.
            this.logger.error({ err: error, topic: next.topic }, 'bus: subscriber threw');
          }
        }
      }
    } finally {
      this.#delivering = false;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new BatonError('unavailable', 'the bus is closed');
  }
}
