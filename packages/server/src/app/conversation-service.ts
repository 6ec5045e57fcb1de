import { randomBytes } from 'node:crypto';
import {
  BatonError,
  type ConversationState,
  canSpeak,
  EventBody,
  type EventBodyInput,
  type Industry,
  initialState,
  type Owner,
  redact,
  reduce,
  type StoredEvent,
} from '@baton/core';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import {
  type AppendFollow,
  type AppendGate,
  AppendGateClosed,
  type ConversationRecord,
  type Store,
} from '../store/store.ts';
import { randomToken, sha256 } from './auth.ts';

/** Who is writing. Routes derive it from credentials; the AI runtime and the router use `ai` and `system`. */
export type Actor =
  | { kind: 'customer' }
  | { kind: 'agent'; id: string; name?: string }
  | { kind: 'bot'; id: string }
  | { kind: 'ai' }
  | { kind: 'system' };

/**
 * What an in-process listener may see but the record never holds: the customer's words before secrets
 * were redacted (seq → original text, only for messages that were redacted). The AI runtime needs a
 * one-time code to check it; nothing else should read this, and nobody may store it.
 */
export interface AppendedTransient {
  originalTexts: ReadonlyMap<number, string>;
  /** The write the append made for the events it started (see `writeWithAppends`), with whether it wrote. */
  follow?: AppendFollow;
}

/**
 * Given events about to be appended, the write one of them starts (see `AppendFollow`), or undefined.
 * Runs before each append, so it must be quick and pure (no I/O).
 */
export type AppendFollower = (conversationId: string, events: readonly EventBody[]) => AppendFollow | undefined;

export type AppendedListener = (
  conversation: ConversationRecord,
  events: StoredEvent[],
  state: ConversationState,
  transient: AppendedTransient,
) => void | Promise<void>;

export interface CreateConversationInput {
  industry?: Industry | string;
  customerName?: string | null;
  channel?: ConversationRecord['channel'];
  botId?: string | null;
  /** First customer message, appended in the same call. */
  text?: string;
}

export interface ConversationView {
  conversation: ConversationRecord;
  state: ConversationState;
}

export const conversationTopic = (conversationId: string) => `conversation:${conversationId}`;
export const DESK_TOPIC = 'desk';
/**
 * Every conversation event, for the other processes' state caches (see `followOtherProcesses`); only
 * published on a shared bus.
 */
export const CONVERSATIONS_TOPIC = 'conversations';
/** Notices for one agent only (their offers, with the brief): never fanned out to the whole desk. */
export const deskAgentTopic = (agentId: string) => `desk:agent:${agentId}`;

const STAFF_AUTHORS = new Set(['ai', 'agent', 'bot']);
/** How many times an ownership-checked append retries after another process wrote in between. */
const MAX_OWNERSHIP_RETRIES = 20;
/** Events read at a time when the state is built from the log. */
const LOG_PAGE = 1000;

interface CacheEntry {
  conversation: ConversationRecord;
  state: ConversationState;
}

/**
 * The application layer every route and runtime goes through: validation, ownership, store first,
 * then the bus, then in-process listeners.
 *
 * Appends to one conversation are serialised inside the process (a promise chain per conversation) so
 * the state cache stays exact and bus messages leave in sequence order. Across processes, the store's
 * optimistic check (`expectedLastSeq`) keeps the ownership rule honest.
 */
export class ConversationService {
  readonly #store: Store;
  readonly #bus: Bus;
  readonly #logger: Logger;
  readonly #cache = new Map<string, CacheEntry>();
  /** Loads in flight, so that callers who ask together read the store once. */
  readonly #loading = new Map<string, Promise<CacheEntry>>();
  readonly #cacheSize: number;
  readonly #chains = new Map<string, Promise<unknown>>();
  readonly #listeners = new Set<AppendedListener>();
  #follower: AppendFollower | undefined;

  constructor(deps: { store: Store; bus: Bus; logger: Logger; cacheSize?: number }) {
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#logger = deps.logger;
    this.#cacheSize = deps.cacheSize ?? 5000;
  }

  /**
   * Keeps the state cache in step with what the other server processes append, from their bus messages.
   * A process whose cache was behind paid for it on its next write to that conversation: the guarded
   * one-statement append failed, and the transaction after it (or, for a message, a conflict, a re-read
   * and a retry) took four to seven round trips instead of one; with customers and agents on different
   * processes that was most agent messages and many of the router's offers. Only the next event in
   * sequence is applied to a cached conversation, so a message that arrives late, twice or out of order
   * changes nothing (the cache is then behind, as before, and the store's guard still decides). Resolves
   * with the unsubscribe function; nothing to follow on a bus that only this process uses.
   */
  async followOtherProcesses(): Promise<() => Promise<void>> {
    if (!this.#bus.shared) return async () => undefined;
    return this.#bus.subscribe(CONVERSATIONS_TOPIC, (message) => {
      if (message.kind === 'event') this.#follow(message.event);
    });
  }

  #follow(event: StoredEvent): void {
    const cached = this.#cache.get(event.conversationId);
    if (!cached || event.seq !== cached.state.lastSeq + 1) return;
    const state = reduce(cached.state, event);
    // Set in place (a Map keeps a key's position): following is not a use, so it does not refresh the LRU.
    this.#cache.set(event.conversationId, {
      state,
      conversation: {
        ...cached.conversation,
        owner: state.owner,
        status: state.status,
        lastSeq: state.lastSeq,
        updatedAt: event.at,
      },
    });
  }

  /**
   * Makes appends write what `follower` asks for their events in the same write (see `AppendFollow`),
   * and hands it, with whether it wrote, to the listeners in the transient. One follower (the router's:
   * a request for a person starts its wait with it). Returns the function that stops it.
   */
  writeWithAppends(follower: AppendFollower): () => void {
    this.#follower = follower;
    return () => {
      if (this.#follower === follower) this.#follower = undefined;
    };
  }

  /** Called after every successful append, never awaited by the writer. Returns an unsubscribe function. */
  onAppended(listener: AppendedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async create(
    input: CreateConversationInput,
    actor: Actor = { kind: 'customer' },
  ): Promise<{ conversation: ConversationRecord; customerToken: string; events: StoredEvent[] }> {
    const customerToken = randomToken();
    const botId = input.botId ?? null;
    const owner: Owner = botId ? { kind: 'bot', id: botId } : { kind: 'ai' };
    const conversation = await this.#store.createConversation({
      id: `c_${randomBytes(12).toString('base64url')}`,
      industry: input.industry ?? 'other',
      channel: input.channel ?? (botId ? 'api' : 'widget'),
      botId,
      customerName: input.customerName ?? null,
      customerTokenHash: sha256(customerToken),
      owner,
    });
    this.#remember(conversation.id, { conversation, state: initialState(owner) });
    let events: StoredEvent[] = [];
    if (input.text !== undefined) {
      events = await this.append(conversation.id, [{ type: 'message', author: 'customer', text: input.text }], actor);
    }
    const current = this.#cache.get(conversation.id)?.conversation ?? conversation;
    return { conversation: current, customerToken, events };
  }

  async get(conversationId: string): Promise<ConversationView> {
    const cached = this.#cache.get(conversationId);
    if (cached) {
      this.#touch(conversationId, cached);
      return cached;
    }
    // One load at a time per conversation: a second caller (the routing pass after its warm-up) shares it.
    let loading = this.#loading.get(conversationId);
    if (!loading) {
      loading = this.#load(conversationId);
      this.#loading.set(conversationId, loading);
      const done = () => {
        if (this.#loading.get(conversationId) === loading) this.#loading.delete(conversationId);
      };
      loading.then(done, done);
    }
    return loading;
  }

  /**
   * Like `get`, but checks the cache against the store first: another server process may have
   * appended since. One indexed read; for routes that show state, not for the write path.
   */
  async getFresh(conversationId: string): Promise<ConversationView> {
    const cached = this.#cache.get(conversationId);
    if (!cached) return this.#load(conversationId);
    const record = await this.#store.getConversation(conversationId);
    if (!record) throw new BatonError('not_found', `conversation ${conversationId} not found`);
    if (record.lastSeq === cached.state.lastSeq) {
      this.#touch(conversationId, cached);
      return cached;
    }
    return this.#refresh(conversationId, cached);
  }

  list(filter?: { status?: string[]; limit?: number }): Promise<ConversationRecord[]> {
    return this.#store.listConversations(filter);
  }

  async readEvents(conversationId: string, after = 0, limit = 1000): Promise<StoredEvent[]> {
    const events = await this.#store.readEvents(conversationId, after, limit);
    if (events.length === 0 && !(await this.#exists(conversationId))) {
      throw new BatonError('not_found', `conversation ${conversationId} not found`);
    }
    return events;
  }

  /**
   * Validates and appends events as `actor`. Only the owner speaks to the customer: a message from the
   * AI, a bot or an agent who does not own the conversation is refused (`not_owner`) and nothing is written.
   * With a `gate`, the events are written only together with the gate's write (see `AppendGate`); a closed
   * gate throws `AppendGateClosed`.
   * With a `precondition`, the events are written only after the state it accepted (it throws to refuse):
   * the store refuses the append when anything was written since, and the precondition decides again on
   * the fresh state.
   */
  append(
    conversationId: string,
    events: readonly EventBodyInput[],
    actor: Actor,
    options: { gate?: AppendGate; precondition?: (state: ConversationState) => void } = {},
  ): Promise<StoredEvent[]> {
    const bodies = parseEvents(events);
    const previous = this.#chains.get(conversationId) ?? Promise.resolve();
    const append = () => this.#appendNow(conversationId, bodies, actor, options.gate, options.precondition);
    const run = previous.then(append, append);
    this.#chains.set(conversationId, run);
    const cleanup = () => {
      if (this.#chains.get(conversationId) === run) this.#chains.delete(conversationId);
    };
    run.then(cleanup, cleanup);
    return run;
  }

  /**
   * Publishes a desk notice to every console on every process (queues, presence), or with `to` only to
   * that agent's consoles (their offers).
   */
  async publishDesk(name: string, payload: Record<string, unknown>, to?: { agentId: string }): Promise<void> {
    await this.#bus.publish(to ? deskAgentTopic(to.agentId) : DESK_TOPIC, { kind: 'desk', name, payload });
  }

  /** Desk-wide notices as every console receives them, from this process or another. */
  subscribeDesk(handler: (name: string, payload: Record<string, unknown>) => void): Promise<() => Promise<void>> {
    return this.#bus.subscribe(DESK_TOPIC, (message) => {
      if (message.kind === 'desk') handler(message.name, message.payload);
    });
  }

  async #appendNow(
    conversationId: string,
    parsed: EventBody[],
    actor: Actor,
    gate: AppendGate | undefined,
    precondition: ((state: ConversationState) => void) | undefined,
  ): Promise<StoredEvent[]> {
    let entry = await this.get(conversationId);
    const bodies = redactSecrets(parsed, entry.state.lastPrompt);
    const speaker = speakerOf(bodies, actor);
    // Written only right after the state that was checked: who speaks, or what the precondition accepted.
    const checked = speaker !== undefined || precondition !== undefined;
    let stored: StoredEvent[] | undefined;
    let refreshed = false;
    // An offer's append (gated) starts nothing.
    const follow = gate ? undefined : this.#follower?.(conversationId, bodies);
    for (let attempt = 0; stored === undefined; attempt++) {
      if (speaker && !canSpeak(entry.state, speaker)) {
        // The cache may be behind what another process wrote (an accept there): only the store can say no.
        if (!refreshed) {
          entry = await this.#refresh(conversationId, entry);
          refreshed = true;
          continue;
        }
        throw new BatonError('not_owner', notOwnerMessage(entry.state.owner, speaker.kind), {
          details: { owner: entry.state.owner },
        });
      }
      precondition?.(entry.state);
      try {
        stored = await this.#store.append(conversationId, bodies, {
          ...(checked ? { expectedLastSeq: entry.state.lastSeq } : {}),
          snapshot: { lastSeq: entry.state.lastSeq, owner: entry.state.owner, status: entry.state.status },
          ...(gate ? { gate } : {}),
          ...(follow ? { follow } : {}),
        });
      } catch (error) {
        // Another process appended since our state was read: refresh and decide again.
        // (A closed gate is no race: its write did not happen, and would not on a retry.)
        if (
          checked &&
          BatonError.is(error) &&
          error.code === 'conflict' &&
          !(error instanceof AppendGateClosed) &&
          attempt < MAX_OWNERSHIP_RETRIES
        ) {
          entry = await this.#refresh(conversationId, entry);
          continue;
        }
        throw error;
      }
    }
    entry = await this.#advance(conversationId, entry, stored);
    const originalTexts = new Map<number, string>();
    stored.forEach((event, index) => {
      const original = parsed[index];
      if (event.type === 'message' && original?.type === 'message' && original.text !== event.text) {
        originalTexts.set(event.seq, original.text);
      }
    });
    for (const event of stored) {
      // Not awaited: this process's subscribers have the event when `publish` returns (and in order), and
      // the other processes' copy is on its way, in order, on the bus's one connection. Waiting for the
      // transport's reply held up the listeners (the AI's turn, the router) and the writer by a round trip
      // per event. The store has it; clients catch up by sequence number, so a bus failure must not fail
      // the write.
      const published = (topic: string) =>
        this.#bus.publish(topic, { kind: 'event', event }).catch((error: unknown) => {
          this.#logger.error({ err: error, conversationId, seq: event.seq }, 'bus publish failed');
        });
      published(conversationTopic(conversationId));
      if (this.#bus.shared) published(CONVERSATIONS_TOPIC);
    }
    this.#notify(entry, stored, follow ? { originalTexts, follow } : { originalTexts });
    return stored;
  }

  #notify(entry: CacheEntry, stored: StoredEvent[], transient: AppendedTransient): void {
    for (const listener of this.#listeners) {
      // After the writer's own step, but before any I/O waiting in the event loop: a handoff is routed (and
      // the AI answers) without waiting a turn behind every other request. A throwing listener is caught here.
      queueMicrotask(() => {
        try {
          Promise.resolve(listener(entry.conversation, stored, entry.state, transient)).catch((error: unknown) => {
            this.#logger.error({ err: error, conversationId: entry.conversation.id }, 'appended listener failed');
          });
        } catch (error) {
          this.#logger.error({ err: error, conversationId: entry.conversation.id }, 'appended listener failed');
        }
      });
    }
  }

  async #advance(conversationId: string, entry: CacheEntry, stored: StoredEvent[]): Promise<CacheEntry> {
    const first = stored[0];
    // A gap means another process wrote in between: read it rather than guess.
    let state = entry.state;
    if (first && first.seq !== state.lastSeq + 1) {
      const missed = await this.#store.readEvents(conversationId, state.lastSeq, first.seq - state.lastSeq - 1);
      for (const event of missed) state = reduce(state, event);
    }
    for (const event of stored) state = reduce(state, event);
    const last = stored[stored.length - 1];
    const next: CacheEntry = {
      state,
      conversation: {
        ...entry.conversation,
        owner: state.owner,
        status: state.status,
        lastSeq: state.lastSeq,
        updatedAt: last?.at ?? entry.conversation.updatedAt,
      },
    };
    this.#remember(conversationId, next);
    return next;
  }

  async #refresh(conversationId: string, entry: CacheEntry): Promise<CacheEntry> {
    const state = await this.#fold(conversationId, entry.state);
    const conversation = (await this.#store.getConversation(conversationId)) ?? entry.conversation;
    const next = { conversation, state };
    this.#remember(conversationId, next);
    return next;
  }

  async #load(conversationId: string): Promise<CacheEntry> {
    // The record and the log's first page side by side: one round trip on PostgreSQL instead of three
    // (record, log, record again). State comes from the log alone; the record gives what the log does not.
    const [conversation, first] = await Promise.all([
      this.#store.getConversation(conversationId),
      this.#store.readEvents(conversationId, 0, LOG_PAGE),
    ]);
    if (!conversation) throw new BatonError('not_found', `conversation ${conversationId} not found`);
    const base = conversation.botId ? initialState({ kind: 'bot', id: conversation.botId }) : initialState();
    const next = { conversation, state: await this.#fold(conversationId, base, first) };
    this.#remember(conversationId, next);
    return next;
  }

  /** `state` with the log after it folded in, page by page; `first` is the page after it when already read. */
  async #fold(conversationId: string, state: ConversationState, first?: StoredEvent[]): Promise<ConversationState> {
    let page = first ?? (await this.#store.readEvents(conversationId, state.lastSeq, LOG_PAGE));
    for (;;) {
      for (const event of page) state = reduce(state, event);
      if (page.length < LOG_PAGE) return state;
      page = await this.#store.readEvents(conversationId, state.lastSeq, LOG_PAGE);
    }
  }

  async #exists(conversationId: string): Promise<boolean> {
    return this.#cache.has(conversationId) || (await this.#store.getConversation(conversationId)) !== undefined;
  }

  #remember(conversationId: string, entry: CacheEntry): void {
    this.#cache.delete(conversationId);
    this.#cache.set(conversationId, entry);
    if (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
  }

  #touch(conversationId: string, entry: CacheEntry): void {
    this.#cache.delete(conversationId);
    this.#cache.set(conversationId, entry);
  }
}

/**
 * Secrets a customer types (PINs, passwords, one-time codes, security answers, full card numbers) never
 * reach the record: they are replaced by a marker before the store sees the message, and the redaction
 * list says where. The question asked just before tells what a bare answer is.
 */
function redactSecrets(bodies: EventBody[], lastPrompt: string | undefined): EventBody[] {
  let previousQuestion = lastPrompt;
  return bodies.map((body) => {
    if (body.type !== 'message') return body;
    if (body.author !== 'customer') {
      if (body.author !== 'system') previousQuestion = body.text;
      return body;
    }
    const { text, redactions } = redact(body.text, previousQuestion === undefined ? undefined : { previousQuestion });
    if (redactions.length === 0) return body;
    return { ...body, text, redactions: [...(body.redactions ?? []), ...redactions] };
  });
}

function parseEvents(events: readonly EventBodyInput[]): EventBody[] {
  if (events.length === 0) throw new BatonError('invalid_input', 'events: at least one event is required');
  return events.map((event, index) => {
    const parsed = EventBody.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = [`events[${index}]`, ...(issue?.path ?? []).map(String)].join('.');
      throw new BatonError('invalid_input', `${path}: ${issue?.message ?? 'invalid event'}`, {
        details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
      });
    }
    return parsed.data;
  });
}

/** The non-customer voice these events speak with, if any: that voice must own the conversation. */
function speakerOf(bodies: EventBody[], actor: Actor): { kind: 'ai' | 'bot' | 'agent'; id?: string } | undefined {
  if (actor.kind !== 'system') {
    const forged = bodies.find((body) => body.type === 'message' && body.author !== actor.kind);
    if (forged?.type === 'message') {
      throw new BatonError('forbidden', `a ${actor.kind} cannot write a message as ${forged.author}`);
    }
  }
  const speaks = bodies.some((body) => body.type === 'message' && STAFF_AUTHORS.has(body.author));
  if (!speaks) return undefined;
  switch (actor.kind) {
    case 'agent':
      return { kind: 'agent', id: actor.id };
    case 'bot':
      return { kind: 'bot', id: actor.id };
    case 'ai':
      return { kind: 'ai' };
    case 'customer':
      throw new BatonError('forbidden', 'a customer can only write customer messages');
    case 'system':
      return undefined;
  }
}

function notOwnerMessage(owner: Owner, kind: string): string {
  switch (owner.kind) {
    case 'agent':
      return `${owner.name ?? owner.id} owns this conversation; only the owner speaks to the customer`;
    case 'queue':
      return 'the conversation is waiting for an agent; accept it before writing to the customer';
    case 'none':
      return 'the conversation is closed';
    default:
      return `the ${owner.kind} owns this conversation, not this ${kind}`;
  }
}
