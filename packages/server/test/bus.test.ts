import { randomBytes } from 'node:crypto';
import { BatonError, type StoredEvent } from '@baton/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Bus, BusMessage } from '../src/bus/bus.ts';
import { createBus } from '../src/bus/create-bus.ts';
import { InProcessBus } from '../src/bus/in-process-bus.ts';
import { RedisBus } from '../src/bus/redis-bus.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Records what a subscriber got and lets a test wait for the n-th message without timers. */
class Inbox {
  readonly messages: BusMessage[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];

  readonly handler = (message: BusMessage): void => {
    this.messages.push(message);
    for (const waiter of this.#waiters.filter((candidate) => this.messages.length >= candidate.count)) {
      waiter.resolve();
    }
    this.#waiters = this.#waiters.filter((candidate) => this.messages.length < candidate.count);
  };

  waitFor(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  names(): string[] {
    return this.messages.map((message) => (message.kind === 'desk' ? message.name : `event:${message.event.seq}`));
  }
}

function desk(name: string, payload: Record<string, unknown> = {}): BusMessage {
  return { kind: 'desk', name, payload };
}

function eventMessage(seq: number): BusMessage {
  const event: StoredEvent = {
    conversationId: 'c1',
    seq,
    at: '2026-01-01T00:00:00.000Z',
    type: 'message',
    author: 'customer',
    text: `message ${seq}`,
  };
  return { kind: 'event', event };
}

interface BusBackend {
  name: string;
  /** Two buses that stand for two server processes (the same bus twice when there is one process). */
  open(): Promise<{ a: Bus; b: Bus; crossProcess: boolean }>;
}

const channelPrefix = `baton-test-${randomBytes(6).toString('hex')}:`;

const backends: BusBackend[] = [
  {
    name: 'in-process',
    async open() {
      const bus = await createBus({});
      expect(bus).toBeInstanceOf(InProcessBus);
      return { a: bus, b: bus, crossProcess: false };
    },
  },
  {
    name: 'redis',
    async open() {
      const a = await createBus({ redisUrl: REDIS_URL, channelPrefix });
      const b = await createBus({ redisUrl: REDIS_URL, channelPrefix });
      expect(a).toBeInstanceOf(RedisBus);
      return { a, b, crossProcess: true };
    },
  },
];

describe.each(backends)('Bus contract: $name', (backend) => {
  const opened: Bus[] = [];

  async function open() {
    const pair = await backend.open();
    opened.push(pair.a, pair.b);
    return pair;
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
  });

  it('delivers a published message to the subscribers of its topic only', async () => {
    const { a, b } = await open();
    const local = new Inbox();
    const remote = new Inbox();
    const elsewhere = new Inbox();
    await a.subscribe('conversation:1', local.handler);
    await b.subscribe('conversation:1', remote.handler);
    await b.subscribe('conversation:2', elsewhere.handler);

    await a.publish('conversation:1', eventMessage(1));
    await a.publish('conversation:2', desk('marker'));
    await Promise.all([local.waitFor(1), remote.waitFor(1), elsewhere.waitFor(1)]);
    expect(local.messages).toEqual([eventMessage(1)]);
    expect(remote.messages).toEqual([eventMessage(1)]);
    // The marker came after the message on the same connection: had topic 2 got the message, it would show.
    expect(elsewhere.names()).toEqual(['marker']);
  });

  it('delivers each message once to a subscriber in the publishing process', async () => {
    const { a, b } = await open();
    const local = new Inbox();
    const remote = new Inbox();
    await a.subscribe('desk', local.handler);
    await b.subscribe('desk', remote.handler);
    await a.publish('desk', desk('first'));
    await remote.waitFor(1);
    // Published after `first` reached b, so any echo of `first` to a arrives before this.
    await b.publish('desk', desk('second'));
    await local.waitFor(2);
    await remote.waitFor(2);
    expect(local.names()).toEqual(['first', 'second']);
    expect(remote.names()).toEqual(['first', 'second']);
  });

  it('keeps the order of one publisher’s messages on a topic', async () => {
    const { a, b } = await open();
    const local = new Inbox();
    const remote = new Inbox();
    await a.subscribe('conversation:order', local.handler);
    await b.subscribe('conversation:order', remote.handler);
    const count = 200;
    const sent = Array.from({ length: count }, (_, index) => a.publish('conversation:order', eventMessage(index + 1)));
    // Local subscribers have every message when `publish` returns: the conversation service notifies its
    // listeners (the AI, the router) without waiting for the transport, and they must not see a reaction
    // to an event before the event itself.
    expect(local.messages).toHaveLength(count);
    await Promise.all(sent);
    await Promise.all([local.waitFor(count), remote.waitFor(count)]);
    const expected = Array.from({ length: count }, (_, index) => `event:${index + 1}`);
    expect(local.names()).toEqual(expected);
    expect(remote.names()).toEqual(expected);
  });

  it('stops delivering to an unsubscribed handler and keeps the others', async () => {
    const { a, b } = await open();
    const leaving = new Inbox();
    const staying = new Inbox();
    const unsubscribe = await b.subscribe('conversation:3', leaving.handler);
    await b.subscribe('conversation:3', staying.handler);
    await a.publish('conversation:3', desk('before'));
    await Promise.all([leaving.waitFor(1), staying.waitFor(1)]);

    await unsubscribe();
    await unsubscribe();
    await a.publish('conversation:3', desk('after'));
    await staying.waitFor(2);
    expect(staying.names()).toEqual(['before', 'after']);
    expect(leaving.names()).toEqual(['before']);
  });

  it('resubscribes after the last handler of a topic left', async () => {
    const { a, b } = await open();
    const first = new Inbox();
    const unsubscribe = await b.subscribe('conversation:4', first.handler);
    await unsubscribe();
    const second = new Inbox();
    await b.subscribe('conversation:4', second.handler);
    await a.publish('conversation:4', desk('hello'));
    await second.waitFor(1);
    expect(second.names()).toEqual(['hello']);
    expect(first.messages).toEqual([]);
  });

  it('keeps delivering when one subscriber throws', async () => {
    const { a, b } = await open();
    const healthy = new Inbox();
    await b.subscribe('conversation:5', () => {
      throw new Error('subscriber bug');
    });
    await b.subscribe('conversation:5', healthy.handler);
    await a.publish('conversation:5', desk('one'));
    await a.publish('conversation:5', desk('two'));
    await healthy.waitFor(2);
    expect(healthy.names()).toEqual(['one', 'two']);
  });

  it('keeps order for every subscriber when a subscriber publishes in reaction', async () => {
    const { a, b } = await open();
    const reacting = new Inbox();
    const watching = new Inbox();
    await b.subscribe('conversation:6', (message) => {
      reacting.handler(message);
      if (message.kind === 'desk' && message.name === 'question') void b.publish('conversation:6', desk('answer'));
    });
    await b.subscribe('conversation:6', watching.handler);
    const remote = new Inbox();
    await a.subscribe('conversation:6', remote.handler);
    await a.publish('conversation:6', desk('question'));
    await Promise.all([reacting.waitFor(2), watching.waitFor(2), remote.waitFor(2)]);
    expect(reacting.names()).toEqual(['question', 'answer']);
    expect(watching.names()).toEqual(['question', 'answer']);
    expect(remote.names()).toEqual(['question', 'answer']);
  });

  it('refuses to publish or subscribe once closed, and closes twice safely', async () => {
    const { a } = await open();
    await a.close();
    await a.close();
    const publishError = await a.publish('desk', desk('late')).catch((error: unknown) => error);
    expect(BatonError.is(publishError) && publishError.code).toBe('unavailable');
    const subscribeError = await a.subscribe('desk', () => {}).catch((error: unknown) => error);
    expect(BatonError.is(subscribeError) && subscribeError.code).toBe('unavailable');
  });
});

describe('RedisBus', () => {
  const admin = new Redis(REDIS_URL, { lazyConnect: true });

  afterAll(async () => {
    await admin.quit();
  });

  async function connectionNames(): Promise<string[]> {
    if (admin.status === 'wait') await admin.connect();
    const list = String(await admin.call('CLIENT', 'LIST'));
    return [...list.matchAll(/\bname=(\S*)/g)].map((match) => match[1] ?? '');
  }

  it('holds one publisher and one subscriber connection and releases both on close', async () => {
    const bus = await RedisBus.connect({ url: REDIS_URL, channelPrefix });
    const mine = (names: string[]) => names.filter((name) => name.endsWith(bus.processId)).sort();
    expect(mine(await connectionNames())).toEqual([`baton-bus-pub-${bus.processId}`, `baton-bus-sub-${bus.processId}`]);
    await bus.subscribe('desk', () => {});
    await bus.close();
    expect(bus.publisher.status).toBe('end');
    expect(bus.subscriber.status).toBe('end');
    expect(mine(await connectionNames())).toEqual([]);
  });

  it('drops malformed messages from the channel and keeps going', async () => {
    const bus = await RedisBus.connect({ url: REDIS_URL, channelPrefix, logger: { warn() {}, error() {} } });
    const sender = await RedisBus.connect({ url: REDIS_URL, channelPrefix });
    try {
      const inbox = new Inbox();
      await bus.subscribe('desk', inbox.handler);
      if (admin.status === 'wait') await admin.connect();
      await admin.publish(`${channelPrefix}desk`, 'not json');
      await admin.publish(`${channelPrefix}desk`, JSON.stringify({ v: 1, processId: 'x', topic: 'desk', message: {} }));
      await sender.publish('desk', desk('valid'));
      await inbox.waitFor(1);
      expect(inbox.names()).toEqual(['valid']);
    } finally {
      await Promise.all([bus.close(), sender.close()]);
    }
  });

  it('drops its own messages when they come back without parsing them, and still hears the others', async () => {
    const warnings: string[] = [];
    const logger = {
      warn: (...args: unknown[]) => {
        warnings.push(String(args[1]));
      },
      error() {},
    };
    const bus = await RedisBus.connect({ url: REDIS_URL, channelPrefix, logger });
    const sender = await RedisBus.connect({ url: REDIS_URL, channelPrefix });
    try {
      const inbox = new Inbox();
      await bus.subscribe('desk', inbox.handler);
      await bus.publish('desk', desk('mine'));
      if (admin.status === 'wait') await admin.connect();
      // Begins as this bus's own envelopes do and is not JSON: parsed, it would be warned about.
      await admin.publish(`${channelPrefix}desk`, `{"v":1,"processId":${JSON.stringify(bus.processId)},not json`);
      await sender.publish('desk', desk('theirs'));
      await inbox.waitFor(2);
      expect(inbox.names()).toEqual(['mine', 'theirs']);
      expect(warnings).toEqual([]);
    } finally {
      await Promise.all([bus.close(), sender.close()]);
    }
  });

  it('fails with unavailable when Redis cannot be reached', async () => {
    const error = await RedisBus.connect({
      url: 'redis://127.0.0.1:1',
      logger: { warn() {}, error() {} },
    }).catch((reason: unknown) => reason);
    expect(BatonError.is(error) && error.code).toBe('unavailable');
  });
});
