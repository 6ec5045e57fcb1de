import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventBodyInput } from '@baton/core';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConversationService } from '../src/app/conversation-service.ts';
import { InProcessBus } from '../src/bus/in-process-bus.ts';
import { deskConfig } from '../src/routing/desk-config.ts';
import { DeskStore } from '../src/routing/desk-store.ts';
import { Router } from '../src/routing/router.ts';
import { createStore, type SqlStore } from '../src/store/sql-store.ts';
import { eventually } from './support/desk-harness.ts';

/**
 * A request for a person starts its wait in the write that stores it, while the router handles the
 * events that end a wait (resolve, return, callback) a moment later, in order. Here the router is held
 * up on purpose while it ends a wait, and a new request is appended meanwhile.
 */
describe('the router, when a request for a person is stored before the end of the last wait is handled', () => {
  let directory: string;
  let store: SqlStore;
  let desk: DeskStore;
  let service: ConversationService;
  let router: Router;
  let release: () => void;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'baton-wait-order-'));
    store = createStore({ file: join(directory, 'baton.db') });
    await store.migrate();
    const logger = pino({ level: 'silent' });
    service = new ConversationService({ store, bus: new InProcessBus(), logger });
    desk = new DeskStore(store.handle);
    // No agents: the waits stay waiting, so what the desk holds is what the router made of the events.
    router = new Router({ desk, store, service, logger, config: deskConfig({ tickMs: 60_000 }) });
    router.start();
    // The router ends waits only once released (its other writes go straight through).
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transition = desk.transition.bind(desk);
    vi.spyOn(desk, 'transition').mockImplementation(async (...args) => {
      if (args[2] === 'closed') await held;
      return transition(...args);
    });
  });

  afterEach(async () => {
    release();
    vi.restoreAllMocks();
    await router.stop();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const append = (conversationId: string, events: EventBodyInput[]) =>
    service.append(conversationId, events, { kind: 'system' });
  const request: EventBodyInput = { type: 'handoff.requested', trigger: 'customer_request', priority: 'normal' };

  it('starts the new wait once the old one has ended, when the request found it still in progress', async () => {
    const { conversation } = await service.create({ industry: 'telecom', text: 'I want a person.' });
    const [first] = await append(conversation.id, [request]);
    await eventually(async () => (await desk.getHandoff(conversation.id))?.episode === first!.seq, 'the first wait');
    await append(conversation.id, [{ type: 'handoff.resolved' }]);
    const [again] = await append(conversation.id, [
      { type: 'message', author: 'customer', text: 'Me again.' },
      request,
    ]);
    // Stored while the first wait was still in progress on the desk: it kept its place.
    expect(await desk.getHandoff(conversation.id)).toMatchObject({ state: 'waiting', episode: first!.seq });
    release();
    const second = again!.seq + 1;
    await eventually(
      async () => (await desk.getHandoff(conversation.id))?.episode === second,
      'the second wait, after the first ended',
    );
    await router.stop();
    expect(await desk.getHandoff(conversation.id)).toMatchObject({ state: 'waiting', episode: second });
  });

  it('leaves a wait that started after the event that ended the last one', async () => {
    const { conversation } = await service.create({ industry: 'telecom', text: 'I want a person.' });
    const [first] = await append(conversation.id, [request]);
    await eventually(async () => (await desk.getHandoff(conversation.id))?.episode === first!.seq, 'the first wait');
    // The customer chose a call back: that wait is no longer in progress.
    await append(conversation.id, [{ type: 'handoff.callback', reason: 'call me later' }]);
    await eventually(async () => (await desk.getHandoff(conversation.id))?.state === 'callback', 'the call back');
    await append(conversation.id, [{ type: 'handoff.resolved' }]);
    const [again] = await append(conversation.id, [request]);
    // Started with the request itself, before the router has handled the resolve.
    expect(await desk.getHandoff(conversation.id)).toMatchObject({ state: 'waiting', episode: again!.seq });
    release();
    await router.stop();
    // The resolve, handled now, ended the wait before it, not this one.
    expect(await desk.getHandoff(conversation.id)).toMatchObject({ state: 'waiting', episode: again!.seq });
  });
});
