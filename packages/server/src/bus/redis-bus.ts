import { randomUUID } from 'node:crypto';
import { BatonError } from '@baton/core';
import { Redis, type RedisOptions } from 'ioredis';
import pino from 'pino';
import type { BusEnvelope } from './bus-envelope.ts';
import { FanOutBus, type FanOutBusOptions } from './fan-out-bus.ts';

export interface RedisBusOptions extends FanOutBusOptions {
  url: string;
  /** Namespaces the channels, so several Baton installs (or test runs) can share one Redis. */
  channelPrefix?: string;
}

/**
 * Redis pub/sub between server processes: one connection publishes, one subscribes (a subscribed
 * Redis connection can do nothing else). All bus logic lives in FanOutBus; this only moves strings.
 */
export class RedisBus extends FanOutBus {
  readonly shared = true;
  readonly publisher: Redis;
  readonly subscriber: Redis;
  readonly #prefix: string;

  private constructor(publisher: Redis, subscriber: Redis, options: RedisBusOptions) {
    super(options);
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.#prefix = options.channelPrefix ?? 'baton:';
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel.startsWith(this.#prefix)) this.receive(raw);
    });
  }

  /** Connects both connections, or fails with BatonError('unavailable'). */
  static async connect(options: RedisBusOptions): Promise<RedisBus> {
    const processId = options.processId ?? randomUUID();
    const connect = (role: string, extra: RedisOptions = {}) =>
      new Redis(options.url, {
        lazyConnect: true,
        // Named so an operator (and the tests) can see which process holds which connection.
        connectionName: `baton-bus-${role}-${processId}`,
        // Best-effort delivery: a publish during an outage fails fast instead of queueing for ever.
        maxRetriesPerRequest: 2,
        ...extra,
      });
    // The publishes of one tick (an append's event, its desk notices, a group of appends) go out in one
    // write, in order: under load each write to the socket was a syscall of its own.
    const publisher = connect('pub', { enableAutoPipelining: true });
    const subscriber = connect('sub');
    const logger = options.logger ?? pino({ name: 'bus' });
    const logErrors = (role: string) => (error: Error) => logger.warn({ err: error, role }, 'bus: redis error');
    publisher.on('error', logErrors('publisher'));
    subscriber.on('error', logErrors('subscriber'));
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
    } catch (error) {
      publisher.disconnect();
      subscriber.disconnect();
      throw new BatonError('unavailable', `cannot connect to Redis at ${redactUrl(options.url)}`, {
        cause: error,
        isRetryable: true,
      });
    }
    return new RedisBus(publisher, subscriber, { ...options, logger, processId });
  }

  protected async send(envelope: BusEnvelope): Promise<void> {
    try {
      await this.publisher.publish(this.#channel(envelope.topic), this.encode(envelope));
    } catch (error) {
      throw new BatonError('unavailable', 'bus could not publish to Redis', { cause: error, isRetryable: true });
    }
  }

  protected async listen(topic: string): Promise<void> {
    await this.subscriber.subscribe(this.#channel(topic));
  }

  protected async unlisten(topic: string): Promise<void> {
    await this.subscriber.unsubscribe(this.#channel(topic));
  }

  protected async shutdown(): Promise<void> {
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }

  #channel(topic: string): string {
    return `${this.#prefix}${topic}`;
  }
}

/** Resolves once the socket is closed, not merely once Redis acknowledged QUIT. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
  try {
    await connection.quit();
  } catch {
    connection.disconnect();
  }
  await ended;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
