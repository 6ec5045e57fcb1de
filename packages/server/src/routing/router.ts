import { randomBytes } from 'node:crypto';
import {
  BatonError,
  type Brief,
  CLINICAL_SKILL,
  type ConversationState,
  type EventBody,
  estimateWaitSeconds,
  isEligible,
  isOpen,
  orderQueue,
  PRIORITY_RANK,
  type Presence,
  planOffers,
  type QueueConfig,
  type RoutingAgent,
  resolveQueue,
  type StoredEvent,
  type WaitingHandoff,
} from '@baton/core';
import type { Logger } from 'pino';
import { briefFor, readWholeLog, throughAppended } from '../app/agent-brief.ts';
import type { ConversationService } from '../app/conversation-service.ts';
import type { Bus } from '../bus/bus.ts';
import {
  type AgentRecord,
  type AppendFollow,
  type AppendGate,
  AppendGateClosed,
  type ConversationRecord,
  type Store,
} from '../store/store.ts';
import type { DeskConfig } from './desk-config.ts';
import type { DeskHandoff, DeskOffer, DeskStore, PassReads, WaitStart } from './desk-store.ts';

/** The agent acting through a desk route. */
export interface DeskAgent {
  id: string;
  name: string;
}

export interface QueueView {
  id: string;
  name: string;
  skills: string[];
  open: boolean;
  waiting: number;
  offered: number;
  callbacks: number;
  agentsOnline: number;
  oldestWaitSeconds: number;
  /** For a customer joining now; absent when nobody who could answer is online. */
  estimatedWaitSeconds?: number;
  entries: {
    conversationId: string;
    priority: string;
    state: string;
    position?: number;
    waitingSince: string;
    estimatedWaitSeconds?: number;
    offeredTo?: string;
  }[];
}

export interface AgentLoadView {
  id: string;
  name: string;
  role: string;
  presence: Presence;
  /** Why the server set `presence` (`console_closed`: no console open within the grace period). */
  presenceReason?: string;
  skills: string[];
  languages: string[];
  capacity: number;
  load: number;
  openOffers: number;
  conversations: string[];
}

export interface InboxView {
  offers: { conversationId: string; queue: string; priority: string; waitingSince: string; expiresAt: string }[];
  owned: { conversationId: string; queue: string; assignedAt?: string }[];
  callbacks: { conversationId: string; queue: string; priority: string; waitingSince: string }[];
}

/** Where the other processes send the leading process their kicks (see `Router.kick`). */
export const ROUTING_TOPIC = 'desk:routing';

/** The conversation events routing acts on (see `#onAppended`); it ignores the rest. */
const ROUTED_EVENTS: ReadonlySet<string> = new Set([
  'handoff.requested',
  'handoff.transferred',
  'handoff.returned',
  'handoff.resolved',
  'handoff.callback',
]);

/** Leadership lapses this many ticks after its holder last renewed it: that process stopped or died. */
const LEADER_TICKS = 3;
const LEASE_MS = 20_000;
const RECOVERY_INTERVAL_MS = 30_000;
/** Handle times move slowly; measuring them on every routing pass would scan history each time. */
const HANDLE_CACHE_MS = 30_000;
const LEASE_WAIT_MS = 15_000;
/** A handle time measured from fewer finished conversations than this is too noisy to promise. */
const MIN_HANDLE_SAMPLES = 5;
/**
 * Queue counts go to every console, and each console reloads its lists when they come: a burst of
 * routing changes is announced once, this long after the first, and counts the desk has already been
 * told are not sent again. At 200 ms, fifty consoles were woken (and reloaded) five times a second.
 */
const QUEUE_NOTICE_MS = 1000;

type RouterEvent = Parameters<ConversationService['append']>[1][number];
type QueuedEvent = Extract<RouterEvent, { type: 'handoff.queued' }>;

/**
 * Routes waiting customers to agents. Reacts to handoff events appended in this process and to agents
 * becoming free; a periodic tick catches expiries and whatever another process changed. Every decision
 * is taken in the database (DeskStore's conditional updates); the lease keeps the event log of one
 * handoff in order (queued, offered, declined/expired) across processes.
 *
 * With several processes on a shared bus, one of them leads: only the leader runs routing passes, and the
 * others send it their kicks over the bus (a pass reads every wait, wherever it started). Passes on every
 * process queued behind each other on the lease, each a few database round trips long: that queue was
 * the PostgreSQL handoff tail. Leadership is renewed every tick and lapses after a few missed ones, so
 * another process takes over from one that died; two leaders for a moment are safe (the lease still
 * serialises their passes). A decline or a presence change still runs its pass where it is made.
 */
export class Router {
  readonly #desk: DeskStore;
  readonly #store: Store;
  readonly #service: ConversationService;
  readonly #logger: Logger;
  readonly #config: DeskConfig;
  readonly #queues: Map<string, QueueConfig>;
  readonly #clock: () => Date;
  readonly #bus: Bus | undefined;
  /** This process, in the leadership row. */
  readonly #holder = `${process.pid}-${randomBytes(6).toString('hex')}`;
  /** Whether this process runs the routing passes: always, unless other processes share the bus. */
  #leader: boolean;
  #electing: Promise<void> | undefined;
  #unsubscribeRouting: Promise<() => Promise<void>> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #recoveryTimer: NodeJS.Timeout | undefined;
  #handleCache: { at: number; value: Map<string, number> } | undefined;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeFollow: (() => void) | undefined;
  /** The wait starts this router asked appends to write (see `#waitWith`). */
  readonly #follows = new WeakSet<AppendFollow>();
  /** Each conversation's routed events, handled one at a time in append order (see `#inOrder`). */
  readonly #handling = new Map<string, Promise<void>>();
  /** The recovery under way, if any (see `recover`). */
  #recovering: Promise<void> = Promise.resolve();
  #localLock: Promise<void> = Promise.resolve();
  #dispatching: Promise<void> | undefined;
  #dispatchAgain = false;
  /** When the pass that runs next was first asked for (`performance.now()`), for the debug timings. */
  #passAskedAt = 0;
  #stopped = false;
  #queueNoticeTimer: NodeJS.Timeout | undefined;
  /** The last queue counts announced on the desk, by any process: what every console shows now. */
  #announcedCounts: string | undefined;
  #unsubscribeDesk: Promise<() => Promise<void>> | undefined;
  /** While a lease is held: what to do once it is released (see `#afterThePass`). */
  #afterLease: (() => Promise<void>)[] | undefined;
  /** The notices of passes that have let go of the lease, still being built and sent (see `#pass`). */
  readonly #passNotices = new Set<Promise<void>>();

  constructor(deps: {
    desk: DeskStore;
    store: Store;
    service: ConversationService;
    logger: Logger;
    config: DeskConfig;
    clock?: () => Date;
    /** The server's bus: when other processes share it, one process leads the routing (see the class). */
    bus?: Bus;
  }) {
    this.#desk = deps.desk;
    this.#store = deps.store;
    this.#service = deps.service;
    this.#logger = deps.logger.child({ module: 'router' });
    this.#config = deps.config;
    this.#queues = new Map(deps.config.queues.map((queue) => [queue.id, queue]));
    this.#clock = deps.clock ?? (() => new Date());
    this.#bus = deps.bus?.shared ? deps.bus : undefined;
    this.#leader = this.#bus === undefined;
  }

  get queues(): readonly QueueConfig[] {
    return this.#config.queues;
  }

  start(): void {
    this.#stopped = false;
    this.#unsubscribeFollow = this.#service.writeWithAppends((conversationId, events) =>
      this.#waitWith(conversationId, events),
    );
    this.#unsubscribe = this.#service.onAppended((conversation, events, state, transient) => {
      // Only what routing acts on takes its place in line: behind every message appended before it, a request
      // for a person waited a few microtask hops per message, a queue that grows with the load.
      if (!events.some((event) => ROUTED_EVENTS.has(event.type))) return;
      return this.#inOrder(conversation.id, () => this.#onAppended(conversation, events, state, transient?.follow));
    });
    this.#unsubscribeDesk = this.#service.subscribeDesk((name, payload) => {
      if (name === 'queue') this.#announcedCounts = JSON.stringify(payload);
    });
    this.#unsubscribeDesk.catch((error: unknown) => this.#logger.warn({ err: error }, 'desk notices not followed'));
    this.#unsubscribeRouting = this.#bus?.subscribe(ROUTING_TOPIC, (message) => {
      if (message.kind !== 'desk') return;
      if (message.name === 'kick' && this.#leader) {
        // The wait started on another process, so this one has likely not cached the conversation: load it
        // now, beside the pass's lease, rather than when its offer is written (the append needs its state).
        const { conversationId } = message.payload;
        if (typeof conversationId === 'string') this.#warm(conversationId);
        this.#pass();
      }
      // The leader stopped: the first process to ask leads from now, not from its next tick.
      if (message.name === 'leader_left' && !this.#leader) this.#tick();
    });
    this.#unsubscribeRouting?.catch((error: unknown) =>
      this.#logger.error({ err: error }, 'routing kicks not followed'),
    );
    this.#timer = setInterval(() => this.#tick(), this.#config.tickMs);
    this.#timer.unref();
    this.#recoveryTimer = setInterval(() => this.#scheduleRecovery(), RECOVERY_INTERVAL_MS);
    this.#recoveryTimer.unref();
    this.#scheduleRecovery();
    this.#tick();
  }

  /** Every tick: a pass on the leader; with other processes, leadership renewed or taken first. */
  #tick(): void {
    if (this.#stopped) return;
    if (!this.#bus) {
      this.#pass();
      return;
    }
    this.#electing ??= this.#elect().finally(() => {
      this.#electing = undefined;
    });
  }

  async #elect(): Promise<void> {
    const ttlMs = this.#config.tickMs * LEADER_TICKS;
    let leads = this.#leader;
    try {
      leads = await this.#desk.holdLeadership(this.#holder, this.#clock(), ttlMs);
    } catch (error) {
      // Unknown: keep the role (two leaders are safe; none would strand the desk until the next tick).
      this.#logger.warn({ err: error }, 'routing leadership not renewed');
    }
    if (this.#stopped) return;
    if (leads !== this.#leader) {
      this.#logger.info(
        { holder: this.#holder },
        leads ? 'routing passes run on this process' : 'another process routes',
      );
    }
    this.#leader = leads;
    if (leads) this.#pass();
  }

  #scheduleRecovery(): void {
    this.#recovering = this.#recovering
      .then(async () => {
        await this.recover();
      })
      .catch((error: unknown) => this.#logger.error({ err: error }, 'desk recovery failed'));
  }

  /**
   * Runs `task` once everything routing does for this conversation already in line is done: in append
   * order within a conversation, so a request and its quick resolve never cross; side by side across
   * conversations, so a request for a person never waits behind another customer's resolve (on
   * PostgreSQL, under load: p90 40 ms, p99 0.6 s in one line for the whole process).
   */
  #inOrder(conversationId: string, task: () => Promise<void>): Promise<void> {
    const handled = (this.#handling.get(conversationId) ?? Promise.resolve())
      .then(task)
      .catch((error: unknown) => this.#logger.error({ err: error, conversationId }, 'routing a handoff event failed'));
    this.#handling.set(conversationId, handled);
    void handled.then(() => {
      if (this.#handling.get(conversationId) === handled) this.#handling.delete(conversationId);
    });
    return handled;
  }

  /** Resolves once every routed event in line, and a recovery under way, has been handled. */
  async #handled(): Promise<void> {
    await this.#recovering;
    while (this.#handling.size > 0) await Promise.all(this.#handling.values());
  }

  /**
   * Waits the log knows of but the desk does not: a process that stopped between appending a request
   * and routing it. Replays the latest request or transfer of each waiting conversation; the episode
   * guard makes this a no-op for those already routed.
   */
  async recover(): Promise<number> {
    const waiting = await this.#store.listConversations({ status: ['queued', 'offered'], limit: 500 });
    let recovered = 0;
    for (const conversation of waiting) {
      const row = await this.#desk.getHandoff(conversation.id);
      if (row && row.state !== 'closed' && row.state !== 'callback') continue;
      const log = await this.#service.readEvents(conversation.id, row?.episode ?? 0, 1000);
      const start = log.findLast((event) => event.type === 'handoff.requested' || event.type === 'handoff.transferred');
      if (!start || (row && start.seq <= row.episode)) continue;
      const { state } = await this.#service.get(conversation.id);
      // In line with what this process is routing for the conversation (a replay of an episode that is
      // already on the desk changes nothing).
      await this.#inOrder(conversation.id, () => this.#onAppended(conversation, [start], state));
      recovered += 1;
    }
    if (recovered > 0) this.#logger.warn({ recovered }, 'desk: routed waits found only in the log');
    return recovered;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#recoveryTimer) clearInterval(this.#recoveryTimer);
    const unsubscribeRouting = this.#unsubscribeRouting;
    this.#unsubscribeRouting = undefined;
    await unsubscribeRouting?.then((unsubscribe) => unsubscribe()).catch(() => undefined);
    await this.#electing;
    if (this.#queueNoticeTimer) clearTimeout(this.#queueNoticeTimer);
    this.#queueNoticeTimer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribeFollow?.();
    const unsubscribeDesk = this.#unsubscribeDesk;
    this.#unsubscribeDesk = undefined;
    await unsubscribeDesk?.then((unsubscribe) => unsubscribe()).catch(() => undefined);
    await this.#handled();
    await this.#dispatching?.catch(() => undefined);
    await Promise.all(this.#passNotices);
    if (this.#bus && this.#leader) {
      // Another process leads at once rather than once this one's leadership lapses.
      this.#leader = false;
      try {
        await this.#desk.releaseLeadership(this.#holder);
        await this.#bus.publish(ROUTING_TOPIC, { kind: 'desk', name: 'leader_left', payload: {} });
      } catch (error) {
        this.#logger.warn({ err: error }, 'routing leadership not handed on (another process takes it when it lapses)');
      }
    }
  }

  /**
   * Asks for a routing pass soon: here when this process leads, otherwise from the leader, over the bus
   * (with nobody leading for a moment, the next leader's first pass finds the wait anyway).
   */
  kick(conversationId?: string): void {
    if (this.#stopped) return;
    if (this.#leader || !this.#bus) {
      this.#pass();
      return;
    }
    this.#bus
      .publish(ROUTING_TOPIC, { kind: 'desk', name: 'kick', payload: conversationId ? { conversationId } : {} })
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'routing kick not sent to the leader'));
  }

  /** Runs the routing loop here soon; calls made while it runs fold into one more pass. */
  #pass(): void {
    if (this.#stopped) return;
    if (this.#dispatching) {
      if (!this.#dispatchAgain) this.#passAskedAt = performance.now();
      this.#dispatchAgain = true;
      return;
    }
    this.#passAskedAt = performance.now();
    this.#dispatching = (async () => {
      do {
        this.#dispatchAgain = false;
        const timing = this.#logger.isLevelEnabled('debug') ? new PassTiming(this.#passAskedAt) : undefined;
        try {
          // The pass's reads come with the lease (on PostgreSQL in the same round trip). Its notices (briefs,
          // audit lines) go on without it, and the next pass does not wait for them: it waits for the lease.
          await this.#withLease(
            (reads) => {
              timing?.leased();
              return this.#dispatch(reads).finally(() => timing?.worked());
            },
            { withReads: true, noticesDetached: true },
          );
          if (timing) this.#logger.debug({ pass: timing.done() }, 'routing pass');
        } catch (error) {
          this.#logger.error({ err: error }, 'routing pass failed');
        }
      } while (this.#dispatchAgain && !this.#stopped);
    })().finally(() => {
      this.#dispatching = undefined;
    });
  }

  /** Resolves once any pass in flight (and those it folded in) has finished, its notices sent. */
  async settle(): Promise<void> {
    await this.#handled();
    while (this.#dispatching || this.#passNotices.size > 0) {
      await this.#dispatching;
      await Promise.all(this.#passNotices);
    }
  }

  // ── Ownership flow, called by the desk routes ────────────────────────────────────────────────

  async accept(conversationId: string, agent: DeskAgent): Promise<StoredEvent> {
    const now = this.#now();
    // The offer accepted and the handoff assigned in one write; a callback is taken by whoever picks it up first.
    const claimed =
      (await this.#desk.claimOffer(conversationId, agent.id, now)) !== undefined ||
      (await this.#desk.transition(conversationId, ['callback'], 'assigned', now, { agentId: agent.id }));
    if (!claimed) {
      const handoff = await this.#desk.getHandoff(conversationId);
      if (!handoff) throw new BatonError('not_found', `no handoff is waiting on conversation ${conversationId}`);
      throw new BatonError('conflict', conflictMessage(handoff, agent.id), {
        details: { state: handoff.state, ...(handoff.agentId ? { agentId: handoff.agentId } : {}) },
      });
    }
    const [event] = await this.#service.append(
      conversationId,
      [{ type: 'handoff.accepted', agentId: agent.id, agentName: agent.name }],
      { kind: 'agent', id: agent.id, name: agent.name },
    );
    await this.#offerNotice({ conversationId, agentId: agent.id, state: 'accepted' });
    this.#queueNotice();
    return event!;
  }

  async decline(conversationId: string, agent: DeskAgent, reason?: string): Promise<StoredEvent> {
    return this.#withLease(async () => {
      const now = this.#now();
      const [offer] = await this.#desk.openOffers({ conversationId, agentId: agent.id });
      const closed = offer ? await this.#desk.closeOffer(offer.id, 'declined', now, { agentId: agent.id }) : false;
      if (!offer || !closed) {
        throw new BatonError('conflict', `there is no open offer for you on conversation ${conversationId}`);
      }
      const event = await this.#requeueAfter(offer, now, {
        type: 'handoff.declined',
        agentId: agent.id,
        ...(reason ? { reason } : {}),
      });
      await this.#offerNotice({ conversationId, agentId: agent.id, state: 'declined' });
      await this.#dispatch();
      return event;
    });
  }

  async transfer(
    conversationId: string,
    agent: DeskAgent,
    input: { queue?: string; agentId?: string; note?: string },
  ): Promise<StoredEvent> {
    if (input.queue && !this.#queues.has(input.queue)) {
      throw new BatonError('invalid_input', `queue: unknown queue ${input.queue}`, {
        details: { queues: [...this.#queues.keys()] },
      });
    }
    if (input.agentId) {
      if (input.agentId === agent.id) throw new BatonError('invalid_input', 'agentId: cannot transfer to yourself');
      if (!(await this.#store.getAgent(input.agentId))) {
        throw new BatonError('invalid_input', `agentId: unknown agent ${input.agentId}`);
      }
    }
    const queue = input.queue ? this.#queues.get(input.queue) : undefined;
    return this.#leaveOwnership(conversationId, agent, 'transferring', {
      type: 'handoff.transferred',
      fromAgentId: agent.id,
      skills: queue?.skills ?? [],
      ...(input.queue ? { queue: input.queue } : {}),
      ...(input.agentId ? { toAgentId: input.agentId } : {}),
      ...(input.note ? { note: input.note } : {}),
    });
  }

  async returnToAi(conversationId: string, agent: DeskAgent, note?: string): Promise<StoredEvent> {
    return this.#leaveOwnership(conversationId, agent, 'closed', {
      type: 'handoff.returned',
      fromAgentId: agent.id,
      ...(note ? { note } : {}),
    });
  }

  /**
   * `seenSeq`: the last event the agent had in front of them when they chose to resolve. When the customer
   * wrote after it (while the agent typed the summary, say), nothing is closed: the agent gets a conflict
   * (`details.reason: 'customer_wrote'`) and still owns the conversation, so no message goes unanswered.
   */
  async resolve(
    conversationId: string,
    agent: DeskAgent,
    options: { summary?: string | undefined; seenSeq?: number | undefined } = {},
  ): Promise<StoredEvent> {
    const { summary, seenSeq } = options;
    return this.#leaveOwnership(
      conversationId,
      agent,
      'closed',
      { type: 'handoff.resolved', byAgentId: agent.id, ...(summary ? { summary } : {}) },
      seenSeq === undefined ? undefined : (state) => refuseUnseenCustomerMessage(state, seenSeq),
    );
  }

  /**
   * `reason`, when the server changed it rather than the agent (`console_closed`, `console_opened`):
   * carried in the notice, so consoles and supervisors can say why.
   */
  async setPresence(agent: DeskAgent, presence: Presence, reason?: string): Promise<void> {
    await this.#store.setAgentPresence(agent.id, presence, reason);
    await this.#notice('presence', { agentId: agent.id, name: agent.name, presence, ...(reason ? { reason } : {}) });
    if (presence !== 'online') {
      // Someone stepping away must not sit on a customer: their open offers lapse at once.
      await this.#withLease(async () => {
        const now = this.#now();
        for (const offer of await this.#desk.openOffers({ agentId: agent.id })) {
          if (await this.#desk.closeOffer(offer.id, 'cancelled', now, { agentId: agent.id })) {
            await this.#requeueAfter(offer, now, { type: 'handoff.expired', agentId: agent.id });
            await this.#offerNotice({ conversationId: offer.conversationId, agentId: agent.id, state: 'expired' });
          }
        }
      });
    }
    this.kick();
  }

  // ── Views for the console and the supervisor ────────────────────────────────────────────────

  /**
   * A console of the agent has just opened: its open offers are announced again, with their briefs. One
   * made while no console listened (a reconnect, a console still connecting when the agent was already
   * online) would otherwise reach the agent only by their console's next poll, or not before it expired.
   */
  async announceOpenOffers(agentId: string): Promise<void> {
    const offers = await this.#desk.openOffers({ agentId });
    if (offers.length === 0) return;
    const agent = await this.#store.getAgent(agentId);
    if (!agent) return;
    await Promise.all(
      offers.map(async (offer) => {
        const handoff = await this.#desk.getHandoff(offer.conversationId);
        await this.#offerNotice(
          {
            conversationId: offer.conversationId,
            agentId,
            state: 'open',
            queue: offer.queue,
            priority: handoff?.priority ?? 'normal',
            expiresAt: offer.expiresAt,
          },
          agent,
        );
      }),
    );
  }

  async inbox(agentId: string): Promise<InboxView> {
    const offers = await this.#desk.openOffers({ agentId });
    const handoffs = await this.#desk.listHandoffs(['assigned', 'callback', 'waiting', 'offered']);
    const byId = new Map(handoffs.map((handoff) => [handoff.conversationId, handoff]));
    return {
      offers: offers.map((offer) => ({
        conversationId: offer.conversationId,
        queue: offer.queue,
        priority: byId.get(offer.conversationId)?.priority ?? 'normal',
        waitingSince: offer.waitingSince,
        expiresAt: offer.expiresAt,
      })),
      owned: handoffs
        .filter((handoff) => handoff.state === 'assigned' && handoff.agentId === agentId)
        .map((handoff) => ({
          conversationId: handoff.conversationId,
          queue: handoff.queue,
          ...(handoff.assignedAt ? { assignedAt: handoff.assignedAt } : {}),
        })),
      callbacks: orderQueue(
        handoffs.filter((handoff) => handoff.state === 'callback').map((handoff) => waitingOf(handoff)),
      ).map((handoff) => ({
        conversationId: handoff.conversationId,
        queue: handoff.queue,
        priority: handoff.priority,
        waitingSince: handoff.waitingSince,
      })),
    };
  }

  async queueViews(): Promise<QueueView[]> {
    const now = this.#clock();
    const handoffs = await this.#desk.listHandoffs(['waiting', 'offered', 'callback']);
    const agents = await this.#routingAgents();
    const offers = await this.#desk.openOffers();
    const offeredTo = new Map(offers.map((offer) => [offer.conversationId, offer.agentId]));
    const handleSeconds = await this.#handleSeconds();
    return this.#config.queues.map((queue) => {
      const mine = handoffs.filter((handoff) => handoff.queue === queue.id);
      const live = orderQueue(mine.filter((handoff) => handoff.state !== 'callback').map(waitingOf));
      const blank = blankHandoff(queue.id);
      const eligible = agents.filter((agent) => isEligible(agent, blank, queue));
      const waiting = mine.filter((handoff) => handoff.state === 'waiting');
      const average = handleSeconds.get(queue.id) ?? queue.averageHandleSeconds;
      const estimate = estimateWaitSeconds({
        position: waiting.length + 1,
        eligibleAgents: eligible,
        averageHandleSeconds: average,
      });
      const oldest = live.reduce((min, handoff) => Math.min(min, Date.parse(handoff.waitingSince)), now.getTime());
      let position = 0;
      return {
        id: queue.id,
        name: queue.name ?? queue.id,
        skills: queue.skills,
        open: isOpen(queue.hours, now),
        waiting: waiting.length,
        offered: mine.filter((handoff) => handoff.state === 'offered').length,
        callbacks: mine.filter((handoff) => handoff.state === 'callback').length,
        agentsOnline: eligible.filter((agent) => agent.presence === 'online').length,
        oldestWaitSeconds: Math.max(0, Math.round((now.getTime() - oldest) / 1000)),
        ...(estimate !== undefined ? { estimatedWaitSeconds: estimate } : {}),
        entries: live.map((entry) => {
          const row = mine.find((handoff) => handoff.conversationId === entry.conversationId);
          const isWaiting = row?.state === 'waiting';
          if (isWaiting) position += 1;
          return {
            conversationId: entry.conversationId,
            priority: entry.priority,
            state: row?.state ?? 'waiting',
            waitingSince: entry.waitingSince,
            ...(isWaiting ? { position } : {}),
            ...(isWaiting && row?.estimateSeconds !== undefined ? { estimatedWaitSeconds: row.estimateSeconds } : {}),
            ...(offeredTo.has(entry.conversationId) ? { offeredTo: offeredTo.get(entry.conversationId) } : {}),
          };
        }),
      };
    });
  }

  async agentViews(): Promise<AgentLoadView[]> {
    const agents = await this.#store.listAgents();
    const loads = await this.#desk.loads();
    const owned = await this.#desk.listHandoffs(['assigned']);
    return agents.map((agent) => {
      const load = loads.get(agent.id);
      return {
        id: agent.id,
        name: agent.name,
        role: agent.role,
        presence: agent.presence,
        ...(agent.presenceReason ? { presenceReason: agent.presenceReason } : {}),
        skills: agent.skills,
        languages: agent.languages,
        capacity: agent.capacity,
        load: load?.owned ?? 0,
        openOffers: load?.offered ?? 0,
        conversations: owned.filter((handoff) => handoff.agentId === agent.id).map((handoff) => handoff.conversationId),
      };
    });
  }

  // ── Reacting to the log ─────────────────────────────────────────────────────────────────────

  /**
   * A request for a person starts its wait in the append that stores it (one write; on PostgreSQL one
   * round trip less before the pass): the wait the request asks for, for the store to write with it.
   */
  #waitWith(conversationId: string, events: readonly EventBody[]): AppendFollow | undefined {
    if (this.#stopped) return undefined;
    const index = events.findIndex((event) => event.type === 'handoff.requested');
    const request = events[index];
    if (request?.type !== 'handoff.requested') return undefined;
    const follow = this.#desk.waitFollow(index, this.#waitStart(conversationId, request, this.#now()));
    this.#follows.add(follow);
    return follow;
  }

  /** The wait a request for a person starts: its queue from what it asks for. */
  #waitStart(
    conversationId: string,
    request: Pick<Extract<EventBody, { type: 'handoff.requested' }>, 'skills' | 'queue' | 'priority' | 'language'>,
    now: string,
  ): WaitStart {
    const queue = resolveQueue({ skills: request.skills, ...(request.queue ? { queue: request.queue } : {}) }, [
      ...this.#config.queues,
    ]);
    return {
      conversationId,
      queue: queue?.id ?? 'general',
      priority: request.priority,
      skills: request.skills,
      ...(request.language ? { language: request.language } : {}),
      excludedAgentIds: [],
      now,
    };
  }

  async #onAppended(
    conversation: ConversationRecord,
    events: StoredEvent[],
    state: ConversationState,
    follow?: AppendFollow,
  ): Promise<void> {
    let changed = false;
    for (const event of events) {
      const now = this.#now();
      // Every type handled here is in ROUTED_EVENTS: only those reach this method.
      switch (event.type) {
        case 'handoff.requested': {
          // Started with the request (see `#waitWith`), or else one statement here: the wait starts unless one
          // is in progress already. A request that found one in progress asks again here, in line: the end of
          // that wait may have been appended before the request and not yet handled (it is by now).
          const written = follow && this.#follows.has(follow) && events[follow.index] === event && follow.wrote;
          const started =
            written ||
            (await this.#desk.upsertWaiting({
              ...this.#waitStart(conversation.id, event, now),
              waitingSince: event.at,
              episode: event.seq,
              unlessActive: true,
            }));
          if (started) {
            changed = true;
            break;
          }
          const existing = await this.#desk.getHandoff(conversation.id);
          if (existing && (existing.state === 'waiting' || existing.state === 'offered')) {
            // Asked again while waiting (frustration rising): keep the place, raise the priority.
            if (PRIORITY_RANK[event.priority] < PRIORITY_RANK[existing.priority]) {
              await this.#desk.raisePriority(conversation.id, event.priority, now);
              changed = true;
            }
          }
          break;
        }
        case 'handoff.transferred': {
          const previous = await this.#desk.getHandoff(conversation.id);
          const queue = event.queue
            ? this.#queues.get(event.queue)
            : event.toAgentId && previous
              ? this.#queues.get(previous.queue)
              : resolveQueue({ skills: event.skills }, [...this.#config.queues]);
          changed =
            (await this.#desk.upsertWaiting({
              conversationId: conversation.id,
              queue: queue?.id ?? previous?.queue ?? 'general',
              priority: previous?.priority ?? state.handoff?.priority ?? 'normal',
              skills: event.skills,
              ...(previous?.language ? { language: previous.language } : {}),
              ...(event.toAgentId ? { targetAgentId: event.toAgentId } : {}),
              excludedAgentIds: event.fromAgentId ? [event.fromAgentId] : [],
              waitingSince: event.at,
              episode: event.seq,
              now,
            })) || changed;
          break;
        }
        // These end the episode they follow, never a later one: a request appended after this event may have
        // started its wait (with its append) before this line is handled.
        case 'handoff.returned':
        case 'handoff.resolved':
          changed =
            (await this.#desk.transition(
              conversation.id,
              ['waiting', 'offered', 'assigned', 'transferring', 'callback'],
              'closed',
              now,
              { episodeBefore: event.seq },
            )) || changed;
          await this.#cancelOpenOffers(conversation.id, now, event.seq);
          break;
        case 'handoff.callback':
          changed =
            (await this.#desk.transition(conversation.id, ['waiting', 'offered'], 'callback', now, {
              episodeBefore: event.seq,
            })) || changed;
          await this.#cancelOpenOffers(conversation.id, now, event.seq);
          break;
        default:
          break;
      }
    }
    if (changed) this.kick(conversation.id);
  }

  /** Loads a conversation's state into the service's cache, for a write soon; a failure is the write's to tell. */
  #warm(conversationId: string): void {
    this.#service.get(conversationId).catch(() => undefined);
  }

  /** Cancels the conversation's open offers of episodes before `before` (a seq). */
  async #cancelOpenOffers(conversationId: string, now: string, before: number): Promise<void> {
    for (const offer of await this.#desk.openOffers({ conversationId })) {
      if (offer.episode >= before) continue;
      if (await this.#desk.closeOffer(offer.id, 'cancelled', now)) {
        await this.#offerNotice({ conversationId, agentId: offer.agentId, state: 'cancelled' });
      }
    }
  }

  /** Leaves ownership for a transfer, a return or a resolve: only the owning agent, only once. */
  async #leaveOwnership(
    conversationId: string,
    agent: DeskAgent,
    to: 'transferring' | 'closed',
    event:
      | {
          type: 'handoff.transferred';
          fromAgentId: string;
          skills: string[];
          queue?: string;
          toAgentId?: string;
          note?: string;
        }
      | { type: 'handoff.returned'; fromAgentId: string; note?: string }
      | { type: 'handoff.resolved'; byAgentId: string; summary?: string },
    precondition?: (state: ConversationState) => void,
  ): Promise<StoredEvent> {
    const now = this.#now();
    // Refused before the desk row moves, as a rule; the append decides again, atomically (see `precondition`).
    if (precondition) precondition((await this.#service.get(conversationId)).state);
    const handoff = await this.#desk.getHandoff(conversationId);
    if (handoff) {
      // The desk row, not a process's cache, says who owns it: another process may have just changed it.
      const claimed = await this.#desk.transition(conversationId, ['assigned'], to, now, { requireAgentId: agent.id });
      if (!claimed) {
        const current = await this.#desk.getHandoff(conversationId);
        if (current?.state === 'assigned' && current.agentId === agent.id) {
          throw new BatonError('conflict', 'the conversation changed meanwhile; try again', { isRetryable: true });
        }
        throw new BatonError('not_owner', 'only the agent who owns this conversation can do that', {
          details: { state: current?.state, ...(current?.agentId ? { agentId: current.agentId } : {}) },
        });
      }
    } else {
      const { state } = await this.#service.get(conversationId);
      if (state.owner.kind !== 'agent' || state.owner.id !== agent.id) {
        throw new BatonError('not_owner', 'only the agent who owns this conversation can do that', {
          details: { owner: state.owner },
        });
      }
    }
    try {
      const [stored] = await this.#service.append(
        conversationId,
        [event],
        { kind: 'agent', id: agent.id, name: agent.name },
        precondition ? { precondition } : {},
      );
      this.#queueNotice();
      return stored!;
    } catch (error) {
      if (handoff) {
        await this.#desk.transition(conversationId, [to], 'assigned', now, {
          agentId: agent.id,
          ...(handoff.assignedAt ? { assignedAt: handoff.assignedAt } : {}),
        });
      }
      throw error;
    }
  }

  // ── The routing pass ────────────────────────────────────────────────────────────────────────

  /** `prefetched`: the desk as read when the lease was taken; otherwise read now. */
  async #dispatch(prefetched?: PassReads): Promise<void> {
    const nowDate = this.#clock();
    const now = nowDate.toISOString();
    let changed = false;
    const reads = prefetched ?? (await this.#desk.passReads(nowDate));

    let expired = false;
    for (const offer of reads.expired) {
      if (await this.#desk.closeOffer(offer.id, 'expired', now)) {
        await this.#requeueAfter(offer, now, { type: 'handoff.expired', agentId: offer.agentId });
        await this.#offerNotice({ conversationId: offer.conversationId, agentId: offer.agentId, state: 'expired' });
        changed = true;
        expired = true;
      }
    }

    // An expiry put its handoff back in the queue and freed the agent's slot: read both again.
    let waiting = expired ? await this.#desk.listHandoffs(['waiting']) : reads.waiting;
    const stillWaiting: DeskHandoff[] = [];
    for (const handoff of waiting) {
      const queue = this.#queues.get(handoff.queue);
      const closed = queue !== undefined && !isOpen(queue.hours, nowDate);
      const patienceMs =
        queue?.callbackAfterSeconds !== undefined ? queue.callbackAfterSeconds * 1000 : this.#config.callbackAfterMs;
      const tooLong = patienceMs > 0 && nowDate.getTime() - Date.parse(handoff.waitingSince) >= patienceMs;
      if (!closed && !tooLong) {
        stillWaiting.push(handoff);
        continue;
      }
      if (await this.#desk.transition(handoff.conversationId, ['waiting'], 'callback', now)) {
        await this.#append(handoff.conversationId, {
          type: 'handoff.callback',
          reason: closed ? 'outside opening hours' : 'no agent free',
        });
        changed = true;
      }
    }
    waiting = stillWaiting;
    if (waiting.length === 0) {
      if (changed) this.#queueNotice();
      return;
    }

    const agents = await this.#routingAgents(expired ? undefined : reads);
    const byId = new Map(agents.map((agent) => [agent.id, agent]));
    const names = new Map(agents.map((agent) => [agent.id, agent.name]));
    const plan = planOffers(waiting.map(waitingOf), agents, this.#config.queues, nowDate);
    const offeredNow = new Set(plan.map((assignment) => assignment.conversationId));
    const handleSeconds = await this.#handleSeconds();

    // Tell every waiting customer their place; a new wait always gets a queued event, before its offer.
    const unpublished = new Map<string, QueuedEvent>();
    for (const queue of this.#config.queues) {
      const inQueue = orderQueue(waiting.filter((handoff) => handoff.queue === queue.id).map(waitingOf));
      const blank = blankHandoff(queue.id);
      const eligible = agents.filter((agent) => isEligible(agent, blank, queue));
      const offeredHere = inQueue.filter((entry) => offeredNow.has(entry.conversationId)).length;
      let position = 0;
      for (const entry of inQueue) {
        const row = waiting.find((handoff) => handoff.conversationId === entry.conversationId);
        if (!row) continue;
        const offered = offeredNow.has(entry.conversationId);
        if (!offered) position += 1;
        const place = offered ? 1 : position;
        const estimate = offered
          ? 0
          : estimateWaitSeconds({
              // This pass's offers take free slots the loads above do not show yet.
              position: place + offeredHere,
              eligibleAgents: eligible,
              averageHandleSeconds: handleSeconds.get(queue.id) ?? queue.averageHandleSeconds,
            });
        const unchanged = row.position === place && !estimateMoved(row.estimateSeconds, estimate);
        if (unchanged || (offered && row.position !== undefined)) continue;
        const queued: QueuedEvent = {
          type: 'handoff.queued',
          queue: queue.id,
          position: place,
          ...(estimate !== undefined ? { estimatedWaitSeconds: estimate } : {}),
        };
        // A new wait offered in this very pass: its queued event goes with the offer, in one write.
        if (offered) {
          unpublished.set(entry.conversationId, queued);
          continue;
        }
        await this.#desk.setPublishedPosition(entry.conversationId, place, estimate);
        await this.#append(entry.conversationId, queued);
        changed = true;
      }
    }

    // Each offer is its own conversation's, and the plan already fits every agent's capacity, so the offers
    // are written side by side: the lease is held for the slowest of them rather than their sum (on
    // PostgreSQL each is a few round trips, and every other process's pass waits on the lease). All settle
    // before the pass ends, so none is still writing once the lease is let go.
    const outcomes = await Promise.allSettled(
      plan.map((assignment) => {
        const handoff = waiting.find((row) => row.conversationId === assignment.conversationId);
        if (!handoff) return Promise.resolve(undefined);
        return this.#offer(handoff, assignment.agentId, unpublished.get(assignment.conversationId), nowDate, {
          name: names.get(assignment.agentId),
          agent: byId.get(assignment.agentId),
        });
      }),
    );
    // Notices start in the plan's order once the pass is done, side by side (see `#runDeferred`).
    for (const outcome of outcomes) {
      if (outcome.status !== 'fulfilled' || !outcome.value) continue;
      changed = true;
      await this.#afterThePass(outcome.value);
    }
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;

    if (changed) this.#queueNotice();
  }

  /**
   * Offers one waiting handoff to the agent the plan chose, with its queued event when the wait is new.
   * Returns the offer's notice (sent once the pass is over), or undefined when the handoff was no longer
   * waiting (another process offered it first).
   */
  async #offer(
    handoff: DeskHandoff,
    agentId: string,
    queued: QueuedEvent | undefined,
    nowDate: Date,
    to: { name: string | undefined; agent: { role: AgentRecord['role']; skills: readonly string[] } | undefined },
  ): Promise<(() => Promise<void>) | undefined> {
    const { conversationId } = handoff;
    const expiresAt = new Date(nowDate.getTime() + this.#config.offerTtlMs).toISOString();
    const published = queued ? { position: queued.position ?? 1, estimate: queued.estimatedWaitSeconds } : undefined;
    // The brief's read of the log goes alongside the offer's writes rather than after them: on PostgreSQL
    // a round trip less between the customer's request and the brief on the agent's screen.
    const log = readWholeLog(this.#store, conversationId).then(
      (events) => ({ events }),
      (error: unknown) => ({ error }),
    );
    const { gate } = this.#desk.offerGate({
      handoff,
      agentId,
      now: nowDate.toISOString(),
      expiresAt,
      ...(published ? { published } : {}),
    });
    let appended: StoredEvent[];
    try {
      // The offer and its events in one write (on PostgreSQL one statement): none without the other.
      appended = await this.#appendAll(
        conversationId,
        [
          ...(queued ? [queued] : []),
          { type: 'handoff.offered', agentId, ...(to.name ? { agentName: to.name } : {}), expiresAt },
        ],
        undefined,
        gate,
      );
    } catch (error) {
      if (!(error instanceof AppendGateClosed)) throw error;
      // No longer waiting (another process offered it first): the customer's place is still news.
      if (queued && published) {
        await this.#desk.setPublishedPosition(conversationId, published.position, published.estimate);
        await this.#append(conversationId, queued);
      }
      return undefined;
    }
    return () =>
      this.#offerNotice(
        { conversationId, agentId, state: 'open', queue: handoff.queue, priority: handoff.priority, expiresAt },
        to.agent,
        async () => {
          const read = await log;
          if ('error' in read) throw read.error;
          // The brief sees the log through the offer at least, as a read after it would.
          return (
            throughAppended(read.events, appended) ?? (await readWholeLog(this.#store, conversationId, read.events))
          );
        },
      );
  }

  /** After a decline or expiry: back to waiting, with that agent left out, and the event in the log. */
  async #requeueAfter(
    offer: DeskOffer,
    now: string,
    event:
      | { type: 'handoff.declined'; agentId: string; reason?: string }
      | { type: 'handoff.expired'; agentId: string },
  ): Promise<StoredEvent> {
    const handoff = await this.#desk.getHandoff(offer.conversationId);
    if (handoff && handoff.episode === offer.episode) await this.#desk.requeue(handoff, offer.agentId, now);
    return this.#append(offer.conversationId, event, event.type === 'handoff.declined' ? offer.agentId : undefined);
  }

  async #append(conversationId: string, event: RouterEvent, agentId?: string): Promise<StoredEvent> {
    const [stored] = await this.#appendAll(conversationId, [event], agentId);
    return stored!;
  }

  #appendAll(
    conversationId: string,
    events: RouterEvent[],
    agentId?: string,
    gate?: AppendGate,
  ): Promise<StoredEvent[]> {
    return this.#service.append(
      conversationId,
      events,
      agentId ? { kind: 'agent', id: agentId } : { kind: 'system' },
      gate ? { gate } : {},
    );
  }

  /** Agents as routing sees them; `known` when the pass has just read them (and nothing changed since). */
  async #routingAgents(
    known?: Pick<PassReads, 'agents' | 'loads'>,
  ): Promise<(RoutingAgent & { name: string; role: AgentRecord['role'] })[]> {
    const agents = known?.agents ?? (await this.#store.listAgents());
    const loads = known?.loads ?? (await this.#desk.loads());
    return agents.map((agent) => {
      const load = loads.get(agent.id);
      return {
        id: agent.id,
        name: agent.name,
        role: agent.role,
        skills: agent.skills,
        languages: agent.languages,
        capacity: agent.capacity,
        presence: agent.presence,
        load: (load?.owned ?? 0) + (load?.offered ?? 0),
        ...(load?.lastOfferedAt ? { lastOfferedAt: load.lastOfferedAt } : {}),
      };
    });
  }

  /** Mean handle time per queue over the last day (its latest 2,000 finished at most), once enough have finished. */
  async #handleSeconds(): Promise<Map<string, number>> {
    const now = this.#clock().getTime();
    if (this.#handleCache && now - this.#handleCache.at < HANDLE_CACHE_MS) return this.#handleCache.value;
    const value = await this.#measureHandleSeconds();
    this.#handleCache = { at: now, value };
    return value;
  }

  async #measureHandleSeconds(): Promise<Map<string, number>> {
    const since = new Date(this.#clock().getTime() - 24 * 3600_000).toISOString();
    const samples = await this.#desk.handleTimes(since);
    // A busy day closes tens of thousands: sum and count in place (copying each queue's list on every
    // sample was quadratic).
    const byQueue = new Map<string, { total: number; count: number }>();
    for (const sample of samples) {
      const entry = byQueue.get(sample.queue) ?? { total: 0, count: 0 };
      entry.total += sample.seconds;
      entry.count += 1;
      byQueue.set(sample.queue, entry);
    }
    const result = new Map<string, number>();
    for (const [queue, { total, count }] of byQueue) {
      if (count >= MIN_HANDLE_SAMPLES) result.set(queue, Math.max(1, total / count));
    }
    return result;
  }

  /** Announces queue counts to the whole desk soon: calls within `QUEUE_NOTICE_MS` share one notice. */
  #queueNotice(): void {
    if (this.#queueNoticeTimer || this.#stopped) return;
    this.#queueNoticeTimer = setTimeout(() => {
      this.#queueNoticeTimer = undefined;
      this.#publishQueueCounts().catch((error: unknown) =>
        this.#logger.warn({ err: error }, 'queue notice not published'),
      );
    }, QUEUE_NOTICE_MS);
    this.#queueNoticeTimer.unref();
  }

  async #publishQueueCounts(): Promise<void> {
    const handoffs = await this.#desk.listHandoffs(['waiting', 'offered', 'callback']);
    const queues = this.#config.queues.map((queue) => ({
      id: queue.id,
      waiting: handoffs.filter((handoff) => handoff.queue === queue.id && handoff.state === 'waiting').length,
      offered: handoffs.filter((handoff) => handoff.queue === queue.id && handoff.state === 'offered').length,
      callbacks: handoffs.filter((handoff) => handoff.queue === queue.id && handoff.state === 'callback').length,
    }));
    const payload = { queues };
    const text = JSON.stringify(payload);
    if (text === this.#announcedCounts) return;
    this.#announcedCounts = text;
    try {
      await this.#service.publishDesk('queue', payload);
    } catch (error) {
      this.#announcedCounts = undefined;
      this.#logger.warn({ err: error }, 'queue notice not published');
    }
  }

  /**
   * Tells one agent about their offer, on their consoles only. A new offer carries the brief, masked for
   * that agent and audited as a read, so it is on screen with the offer itself.
   */
  async #offerNotice(
    payload: { conversationId: string; agentId: string; state: string } & Record<string, unknown>,
    agent?: { role: AgentRecord['role']; skills: readonly string[] },
    /** The log for the brief when the caller has it under way; read here otherwise. */
    log: () => Promise<readonly StoredEvent[]> = () => readWholeLog(this.#store, payload.conversationId),
  ): Promise<void> {
    let brief: Brief | undefined;
    if (payload.state === 'open' && agent) {
      try {
        const { conversation } = await this.#service.get(payload.conversationId);
        const events = await log();
        brief = briefFor(events, conversation, { role: agent.role, skills: [...agent.skills] });
      } catch (error) {
        // The console builds the brief from the log itself: an offer without one is still an offer.
        this.#logger.warn({ err: error, conversationId: payload.conversationId }, 'brief for the offer failed');
      }
    }
    await this.#notice('offer', brief ? { ...payload, brief } : payload, { agentId: payload.agentId });
    if (brief) {
      await this.#store.appendAudit({
        actorKind: 'agent',
        actorId: payload.agentId,
        action: 'conversation.brief_offered',
        conversationId: payload.conversationId,
        detail: { clinical: agent?.skills.includes(CLINICAL_SKILL) ?? false },
      });
    }
  }

  async #notice(name: string, payload: Record<string, unknown>, to?: { agentId: string }): Promise<void> {
    try {
      await this.#service.publishDesk(name, payload, to);
    } catch (error) {
      this.#logger.warn({ err: error, name }, 'desk notice not published');
    }
  }

  /**
   * Runs `work` while holding the desk lease: first the in-process lock (so one process does not
   * poll against itself), then the database lease shared by all processes. `noticesDetached`: resolves
   * once the lease is let go, without waiting for the work's notices (kept in `#passNotices` until sent);
   * otherwise once they are sent too.
   */
  async #withLease<T>(
    work: (reads: PassReads | undefined) => Promise<T>,
    options: { withReads?: boolean; noticesDetached?: boolean } = {},
  ): Promise<T> {
    const previous = this.#localLock;
    let release!: () => void;
    this.#localLock = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    const deferred: (() => Promise<void>)[] = [];
    let afterwards: Promise<void> | undefined;
    let result: T;
    try {
      result = await this.#desk.withLease(
        (reads) => {
          this.#afterLease = deferred;
          return work(reads);
        },
        {
          ...(options.withReads ? { readsAt: this.#clock() } : {}),
          waitMs: LEASE_WAIT_MS,
          leaseMs: LEASE_MS,
          now: this.#clock,
          // The offers are written; their notices start while the lease is let go (a commit round trip).
          whenReleasing: () => {
            this.#afterLease = undefined;
            afterwards = this.#runDeferred(deferred);
          },
          onReleaseError: (error) => this.#logger.warn({ err: error }, 'desk lease: commit failed, connection closed'),
        },
      );
    } finally {
      this.#afterLease = undefined;
      release();
    }
    if (options.noticesDetached && afterwards) {
      const sending = afterwards.finally(() => this.#passNotices.delete(sending));
      this.#passNotices.add(sending);
    } else {
      await afterwards;
    }
    return result;
  }

  /**
   * Side by side: each notice is its own offer's (one agent, one conversation), and one after the other the
   * last offer of a burst waited for every earlier one's brief and audit line.
   */
  async #runDeferred(tasks: readonly (() => Promise<void>)[]): Promise<void> {
    await Promise.all(
      tasks.map((task) =>
        task().catch((error: unknown) => this.#logger.error({ err: error }, 'desk notice after a pass failed')),
      ),
    );
  }

  /**
   * Work that needs no lease (building and sending an offer's brief, its audit line) runs once the pass
   * is done and letting go of it (the commit that releases it is already on its way): every other process's pass waits on the lease, and on PostgreSQL each statement
   * held under it is a round trip the whole desk waits for.
   */
  #afterThePass(task: () => Promise<void>): Promise<void> {
    if (!this.#afterLease) return task();
    this.#afterLease.push(task);
    return Promise.resolve();
  }

  #now(): string {
    return this.#clock().toISOString();
  }
}

/**
 * Where a routing pass's time went, logged at debug level (`scripts/pass-timings.ts` sums a server's log):
 * `queuedMs` from the first ask until it started (behind the pass in flight), `leaseMs` until the lease
 * and the desk's reads were in, `workMs` the plan and its offers, `releaseMs` until the next could start.
 */
class PassTiming {
  readonly #asked: number;
  readonly #started = performance.now();
  #leased = 0;
  #worked = 0;

  constructor(askedAt: number) {
    this.#asked = askedAt;
  }

  leased(): void {
    this.#leased = performance.now();
  }

  worked(): void {
    this.#worked = performance.now();
  }

  done(): { queuedMs: number; leaseMs: number; workMs: number; releaseMs: number } {
    const ms = (value: number) => Math.round(value * 100) / 100;
    return {
      queuedMs: ms(this.#started - this.#asked),
      leaseMs: ms(this.#leased - this.#started),
      workMs: ms(this.#worked - this.#leased),
      releaseMs: ms(performance.now() - this.#worked),
    };
  }
}

/**
 * Whether a waiting customer should hear a new estimate for the same place in the queue. Estimates
 * drift on every pass (handle times, agents' loads); telling every waiting customer each drift wrote an
 * event per customer per pass, the queue's length squared. A new estimate is news when one appears or
 * goes, or when it moves by more than 30 seconds and a quarter.
 */
function estimateMoved(published: number | undefined, next: number | undefined): boolean {
  if (published === next) return false;
  if (published === undefined || next === undefined) return true;
  const change = Math.abs(next - published);
  return change > 30 && change > published * 0.25;
}

function waitingOf(handoff: DeskHandoff): WaitingHandoff {
  return {
    conversationId: handoff.conversationId,
    queue: handoff.queue,
    priority: handoff.priority,
    skills: handoff.skills,
    waitingSince: handoff.waitingSince,
    excludedAgentIds: handoff.excludedAgentIds,
    ...(handoff.language ? { language: handoff.language } : {}),
    ...(handoff.targetAgentId ? { targetAgentId: handoff.targetAgentId } : {}),
  };
}

const EPOCH = new Date(0).toISOString();

/** A handoff that asks for nothing but its queue: who could take any of that queue's work. */
function blankHandoff(queue: string): WaitingHandoff {
  return { conversationId: '', queue, priority: 'normal', skills: [], waitingSince: EPOCH };
}

function conflictMessage(handoff: DeskHandoff, agentId: string): string {
  if (handoff.state === 'assigned') {
    return handoff.agentId === agentId
      ? 'you already own this conversation'
      : 'another agent has already accepted this conversation';
  }
  if (handoff.state === 'closed') return 'this handoff is over';
  return 'this conversation is not offered to you (the offer may have expired)';
}

/** `resolve` with `seenSeq`: refuses while a customer message after it has not been in front of the agent. */
function refuseUnseenCustomerMessage(state: ConversationState, seenSeq: number): void {
  const last = state.lastCustomerMessageSeq;
  if (last !== undefined && last > seenSeq) {
    throw new BatonError(
      'conflict',
      `the customer wrote after event ${seenSeq} (their last message is event ${last}): read it, then resolve again`,
      { details: { reason: 'customer_wrote', lastCustomerMessageSeq: last } },
    );
  }
}
