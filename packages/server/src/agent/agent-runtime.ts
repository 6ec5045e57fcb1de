import {
  BatonError,
  type Brief,
  type BriefOptions,
  briefReads,
  buildBrief,
  type ConversationState,
  EscalationConfig,
  type EscalationConfigInput,
  EscalationTracker,
  type EventBody,
  FactTracker,
  type HandoffTrigger,
  type Priority,
  type StoredEvent,
} from '@baton/core';
import type { Logger } from 'pino';
import type { AppendedTransient, ConversationService } from '../app/conversation-service.ts';
import type { ConversationRecord } from '../store/store.ts';
import type { AgentFact, AgentInput, AiAgent, HandoffRequest } from './ai-agent.ts';
import type { ToolRegistry } from './tools.ts';

export interface AgentRuntimeOptions {
  service: ConversationService;
  agent: AiAgent;
  tools: ToolRegistry;
  logger: Logger;
  /** Escalation policy settings (core `EscalationConfig`); the conversation's industry is added per turn. */
  escalation?: EscalationConfigInput;
  /** Turns running at once across all conversations. */
  concurrency?: number;
  /** A turn that takes longer is aborted and ends in a handoff with trigger `error`. */
  turnTimeoutMs?: number;
}

type Cause = AgentInput['cause'];

interface ConversationQueue {
  next: Cause | undefined;
  controller: AbortController | undefined;
}

/** Conversations whose log the runtime keeps between turns. */
const LOGS_KEPT = 1_000;
/** Parsed escalation settings kept, by industry (industries are few; the map is emptied if not). */
const POLICIES_KEPT = 100;

/**
 * One conversation's log as the runtime keeps it between turns, with the facts and the escalation
 * policy's view of it. Events are never changed once written, so the log only grows: from the events
 * this process appends (the service's notices and the turn's own appends) and, when those skip ahead
 * because another process wrote, from the store. The trackers catch up at the start of a turn, so a
 * turn costs the events since the last one, not the conversation's length.
 */
interface KeptLog {
  /** The whole log from seq 1, in order, without gaps. */
  events: StoredEvent[];
  /** `events` was handed to a turn (agents may hold it): the next event goes into a copy. */
  shared: boolean;
  facts: FactTracker;
  policy: EscalationTracker;
  /** The last brief a turn was given, and what it was built from (see `#briefOf`). */
  brief?: { reads: number; options: BriefOptions; brief: Brief };
}

function emptyLog(): KeptLog {
  return { events: [], shared: false, facts: new FactTracker(), policy: new EscalationTracker() };
}

const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

const APOLOGY =
  "I'm sorry, I'm having trouble on my side right now. I'm bringing in a colleague, who will see everything you've told me so you won't have to repeat it.";

/** What the AI says when the policy hands off before it answered, by trigger. */
function bridgeText(request: HandoffRequest): string {
  switch (request.trigger) {
    case 'customer_request':
      return "Of course. I'm bringing in a colleague now; they'll see everything we've done so far, so you won't need to repeat anything.";
    case 'frustration':
      return "I'm sorry this has been so frustrating. I'm bringing in a colleague right now, and they'll have the full picture of what we've tried.";
    case 'repeated_failure':
      return "This isn't working the way it should, so I'm bringing in a colleague who can look deeper. They'll see everything we've tried.";
    case 'not_understood':
      return "I'm sorry I'm not getting this right. I'm passing you to a colleague who will read our conversation and take it from here.";
    case 'error':
      return APOLOGY;
    default:
      return request.skills.includes('clinical')
        ? "That's a question for our nurses: I can't give medical advice. I'm connecting you with a nurse now, and they'll see everything we've discussed."
        : "This needs one of my colleagues, so I'm passing you to them now. They'll see everything we've checked.";
  }
}

/**
 * Runs the AI side of every conversation the AI owns. When the customer writes (or a human hands the
 * conversation back), it asks the escalation policy first, then lets the agent take its turn and
 * appends what it produced, then asks the policy again. While the conversation waits in a queue, a
 * customer message gets a `customer_waiting` turn: company and missing facts, no tools, no new handoff.
 *
 * Turns of one conversation run one at a time (messages that arrive meanwhile are answered together
 * in the next turn); turns of different conversations run in parallel up to `concurrency`, each with a
 * timeout, so a slow model or back office never holds up anyone else. The AI never writes while a human
 * owns the conversation: the runtime checks ownership before each turn, and the service refuses AI
 * messages (`not_owner`) if a human took over during one.
 */
export class AgentRuntime {
  readonly #service: ConversationService;
  readonly #agent: AiAgent;
  readonly #tools: ToolRegistry;
  readonly #logger: Logger;
  readonly #escalation: EscalationConfigInput;
  readonly #concurrency: number;
  readonly #turnTimeoutMs: number;
  readonly #queues = new Map<string, ConversationQueue>();
  /**
   * What the customer typed before secrets were redacted, by conversation and seq, kept in memory only
   * until the turn that answers it is over: the agent must read a one-time code the record never holds.
   */
  readonly #originals = new Map<string, Map<number, string>>();
  readonly #slots: (() => void)[] = [];
  /** Logs of recent turns, by conversation (bounded, least recently used out first). */
  readonly #logs = new Map<string, KeptLog>();
  readonly #policies = new Map<string, EscalationConfig>();
  #idleWaiters: { conversationId: string | undefined; resolve: () => void }[] = [];
  #running = 0;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(options: AgentRuntimeOptions) {
    this.#service = options.service;
    this.#agent = options.agent;
    this.#tools = options.tools;
    this.#logger = options.logger;
    this.#escalation = options.escalation ?? {};
    this.#concurrency = Math.max(1, options.concurrency ?? 8);
    this.#turnTimeoutMs = options.turnTimeoutMs ?? 60_000;
  }

  get agentName(): string {
    return this.#agent.name;
  }

  start(): void {
    this.#unsubscribe ??= this.#service.onAppended((conversation, events, state, transient) =>
      this.#onAppended(conversation, events, state, transient),
    );
  }

  /** Stops listening and aborts turns in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const queue of this.#queues.values()) {
      queue.next = undefined;
      queue.controller?.abort(new BatonError('unavailable', 'the server is stopping'));
    }
    await this.idle();
  }

  /** Resolves once no turn is queued or running (for one conversation, or for all). */
  idle(conversationId?: string): Promise<void> {
    const busy = conversationId === undefined ? this.#queues.size > 0 : this.#queues.has(conversationId);
    if (!busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push({ conversationId, resolve }));
  }

  #onAppended(
    conversation: ConversationRecord,
    events: StoredEvent[],
    state: ConversationState,
    transient: AppendedTransient | undefined,
  ): void {
    if (this.#stopped) return;
    this.#keep(conversation.id, events, state);
    const customerWrote = events.some((event) => event.type === 'message' && event.author === 'customer');
    let cause: Cause | undefined;
    if (state.owner.kind === 'ai') {
      cause = customerWrote
        ? 'customer_message'
        : events.some((event) => event.type === 'handoff.returned')
          ? 'handoff_returned'
          : undefined;
    } else if (state.owner.kind === 'queue' && customerWrote) {
      cause = 'customer_waiting';
    }
    if (!cause) return;
    if (transient && transient.originalTexts.size > 0) {
      const originals = this.#originals.get(conversation.id) ?? new Map<number, string>();
      for (const [seq, text] of transient.originalTexts) originals.set(seq, text);
      this.#originals.set(conversation.id, originals);
    }
    const queue = this.#queues.get(conversation.id);
    if (queue) {
      // A customer message outranks a hand-back: the next turn sees both anyway.
      if (queue.next !== 'customer_message') queue.next = cause;
      return;
    }
    const fresh: ConversationQueue = { next: cause, controller: undefined };
    this.#queues.set(conversation.id, fresh);
    void this.#drain(conversation.id, fresh);
  }

  async #drain(conversationId: string, queue: ConversationQueue): Promise<void> {
    try {
      while (queue.next && !this.#stopped) {
        const cause = queue.next;
        queue.next = undefined;
        await this.#acquire();
        try {
          // Stopping aborts the turns that run; one that was waiting for a slot must not start instead.
          if (this.#stopped) break;
          await this.#turn(conversationId, cause, queue);
        } catch (error) {
          this.#logger.error({ err: error, conversationId }, 'agent turn failed');
        } finally {
          this.#release();
        }
      }
    } finally {
      this.#queues.delete(conversationId);
      this.#originals.delete(conversationId);
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const waiter of waiters) {
        const done =
          waiter.conversationId === undefined ? this.#queues.size === 0 : waiter.conversationId === conversationId;
        if (done) waiter.resolve();
        else this.#idleWaiters.push(waiter);
      }
    }
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#concurrency) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#slots.push(resolve));
  }

  #release(): void {
    const next = this.#slots.shift();
    if (next) next();
    else this.#running--;
  }

  async #turn(conversationId: string, cause: Cause, queue: ConversationQueue): Promise<void> {
    const { conversation, state } = await this.#service.get(conversationId);
    if (state.owner.kind !== (cause === 'customer_waiting' ? 'queue' : 'ai')) return;
    const kept = await this.#readAll(conversationId, state.lastSeq);
    const events = kept.events;
    kept.shared = true;
    const count = events.length;
    for (let i = kept.facts.size; i < count; i++) kept.facts.push(events[i] as StoredEvent);
    for (let i = kept.policy.size; i < count; i++) kept.policy.push(events[i] as StoredEvent);

    const policy = this.#policyFor(conversation.industry);
    if (cause === 'customer_message') {
      const before = kept.policy.decide(policy);
      if (before) {
        await this.#handoff(conversationId, before, true);
        return;
      }
    }

    const controller = new AbortController();
    queue.controller = controller;
    const timer = setTimeout(
      () =>
        controller.abort(new BatonError('unavailable', `the agent did not finish within ${this.#turnTimeoutMs} ms`)),
      this.#turnTimeoutMs,
    );
    /** What this turn appended: the policy decides again on `events` and these, like on one log. */
    const own: StoredEvent[] = [];
    let requested: HandoffRequest | undefined;
    let spoke = false;
    try {
      const originals = this.#originals.get(conversationId);
      const input: AgentInput = {
        conversation: { id: conversation.id, industry: conversation.industry, customerName: conversation.customerName },
        events: originals ? events.map((event) => withOriginalText(event, originals)) : events,
        state,
        facts: knownFacts(events, kept.facts),
        cause,
        tools: this.#tools,
        ...(cause === 'customer_message'
          ? {}
          : {
              brief: this.#briefOf(kept, conversation),
            }),
      };
      for await (const step of untilAborted(this.#agent.respond(input, controller.signal), controller.signal)) {
        if (step.type === 'events' && step.events.length > 0) {
          // When this reply is the turn the AI did not understand once too often, the customer hears the
          // handoff instead of a request to rephrase followed at once by "I am passing you to a colleague";
          // the record of the turn (its not-understood action) is kept, in the same write as the request.
          if (cause === 'customer_message' && !requested && step.events.some((event) => event.type === 'message')) {
            const tentative = this.#policyAfter(kept, count, own).clone();
            for (const event of step.events) tentative.push(event);
            const decision = tentative.decide(policy);
            if (decision?.trigger === 'not_understood') {
              const done = step.events.filter((event) => event.type !== 'message');
              await this.#handoff(conversationId, decision, true, done);
              return;
            }
          }
          const stored = await this.#service.append(conversationId, step.events, { kind: 'ai' });
          own.push(...stored);
          this.#extend(kept, stored);
          spoke ||= step.events.some((event) => event.type === 'message');
        } else if (step.type === 'handoff') {
          requested = step.request;
        }
      }
    } catch (error) {
      if (BatonError.is(error) && error.code === 'not_owner') return;
      if (this.#stopped) return;
      // Already waiting for a human: a failed small-talk turn needs no second handoff.
      if (cause === 'customer_waiting') {
        this.#logger.warn({ err: error, conversationId }, 'agent turn while queued failed');
        return;
      }
      const timedOut = controller.signal.aborted;
      this.#logger.warn({ err: error, conversationId, agent: this.#agent.name }, 'agent turn failed; handing off');
      const failure: EventBody = {
        type: 'action',
        name: 'generate_reply',
        actor: 'ai',
        input: { agent: this.#agent.name },
        outcome: 'failed',
        error: {
          system: 'agent',
          code: timedOut ? 'TIMEOUT' : 'AGENT_ERROR',
          message: (error instanceof Error ? error.message : String(error)).slice(0, 500),
        },
      };
      await this.#appendQuietly(conversationId, [failure]);
      await this.#handoff(
        conversationId,
        {
          trigger: 'error',
          reason: `AI unavailable: ${timedOut ? 'TIMEOUT' : 'AGENT_ERROR'}`,
          priority: 'normal',
          skills: [],
        },
        true,
      );
      return;
    } finally {
      clearTimeout(timer);
      queue.controller = undefined;
    }

    if (cause === 'customer_waiting') return;
    const after = this.#policyAfter(kept, count, own).decide(policy);
    const decision = merge(after ?? undefined, requested);
    // The agent announces its own handoffs; one the policy adds on its own needs a sentence for the customer.
    if (decision) await this.#handoff(conversationId, decision, !requested || !spoke);
  }

  async #handoff(
    conversationId: string,
    request: HandoffRequest,
    announce: boolean,
    before: readonly EventBody[] = [],
  ): Promise<void> {
    const events: EventBody[] = [...before];
    if (announce) events.push({ type: 'message', author: 'ai', text: bridgeText(request) });
    events.push({
      type: 'handoff.requested',
      trigger: request.trigger,
      priority: request.priority,
      skills: request.skills,
      ...(request.reason ? { reason: request.reason.slice(0, 500) } : {}),
    });
    await this.#appendQuietly(conversationId, events);
  }

  /** An append refused because a human now owns the conversation is expected, not an error. */
  async #appendQuietly(conversationId: string, events: EventBody[]): Promise<void> {
    try {
      await this.#service.append(conversationId, events, { kind: 'ai' });
    } catch (error) {
      if (BatonError.is(error) && error.code === 'not_owner') return;
      throw error;
    }
  }

  /**
   * The whole log, kept up to date by this process's appends; read from the store only past what is kept,
   * and only when the conversation's state is ahead of it (another process wrote in between).
   */
  async #readAll(conversationId: string, lastSeq: number): Promise<KeptLog> {
    const kept = this.#logs.get(conversationId) ?? emptyLog();
    this.#logs.delete(conversationId);
    for (;;) {
      const known = kept.events.at(-1)?.seq ?? 0;
      if (known >= lastSeq) break;
      const page = await this.#service.readEvents(conversationId, known, 1000);
      this.#extend(kept, page);
      if (page.length < 1000 || (kept.events.at(-1)?.seq ?? 0) === known) break;
    }
    this.#remember(conversationId, kept);
    return kept;
  }

  #remember(conversationId: string, kept: KeptLog): void {
    if (this.#logs.size >= LOGS_KEPT) {
      const oldest = this.#logs.keys().next();
      if (!oldest.done) this.#logs.delete(oldest.value);
    }
    // Most recently used last, so the oldest is evicted first.
    this.#logs.set(conversationId, kept);
  }

  /** Every append of this process: extends a kept log, or starts one for a new conversation the AI owns. */
  #keep(conversationId: string, events: readonly StoredEvent[], state: ConversationState): void {
    // Once a person owns the conversation or it is resolved, the AI takes no turn there until a hand-back,
    // which reads the log again: keeping it would only hold memory for conversations the AI has left.
    if (state.owner.kind === 'agent' || state.status === 'resolved') {
      this.#logs.delete(conversationId);
      return;
    }
    const kept = this.#logs.get(conversationId);
    if (kept) this.#extend(kept, events);
    else if (events[0]?.seq === 1 && state.owner.kind === 'ai') {
      const fresh = emptyLog();
      this.#extend(fresh, events);
      this.#remember(conversationId, fresh);
    }
  }

  /**
   * The brief of the kept log. A customer waiting for an agent gets a turn for every message, and their
   * brief stops at the handoff request: it is built once and reused while the events it reads and the
   * conversation's details stay the same (the kept log only grows, so the same count means the same events).
   */
  #briefOf(kept: KeptLog, conversation: Pick<ConversationRecord, 'industry' | 'customerName'>): Brief {
    const options: BriefOptions = {
      industry: conversation.industry,
      ...(conversation.customerName ? { customerName: conversation.customerName } : {}),
    };
    const reads = briefReads(kept.events, options);
    const last = kept.brief;
    if (
      last &&
      last.reads === reads &&
      last.options.industry === options.industry &&
      last.options.customerName === options.customerName
    ) {
      return last.brief;
    }
    const brief = buildBrief(kept.events, options);
    kept.brief = { reads, options, brief };
    return brief;
  }

  /**
   * Adds the events that follow on; ones already kept are skipped (a turn's own appends come back as
   * notices). At a gap it stops: the next turn reads what is missing from the store.
   */
  #extend(kept: KeptLog, events: readonly StoredEvent[]): void {
    let last = kept.events.at(-1)?.seq ?? 0;
    for (const event of events) {
      if (event.seq <= last) continue;
      if (event.seq !== last + 1) return;
      if (kept.shared) {
        kept.events = kept.events.slice();
        kept.shared = false;
      }
      kept.events.push(event);
      last = event.seq;
    }
  }

  /**
   * The policy's view of the turn's log and what the turn appended (not what others appended meanwhile,
   * which the next turn decides on): the kept tracker itself when nothing came in between, else a copy.
   */
  #policyAfter(kept: KeptLog, count: number, own: readonly StoredEvent[]): EscalationTracker {
    const events = kept.events;
    const followOn = events.length === count + own.length && own.every((event, i) => events[count + i] === event);
    if (followOn) {
      for (let i = kept.policy.size; i < events.length; i++) kept.policy.push(events[i] as StoredEvent);
      return kept.policy;
    }
    const copy = kept.policy.clone();
    for (const event of own) copy.push(event);
    return copy;
  }

  /** The escalation settings for an industry, parsed once. */
  #policyFor(industry: string): EscalationConfig {
    let policy = this.#policies.get(industry);
    if (!policy) {
      policy = EscalationConfig.parse({ ...this.#escalation, industry });
      if (this.#policies.size >= POLICIES_KEPT) this.#policies.clear();
      this.#policies.set(industry, policy);
    }
    return policy;
  }
}

/**
 * Stops waiting on an agent that ignores its abort signal: the turn ends when the signal fires even
 * if the agent is stuck inside a step.
 */
async function* untilAborted<T>(steps: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = steps[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (signal.aborted) void iterator.return?.(undefined)?.catch(() => undefined);
  }
}

function withOriginalText(event: StoredEvent, originals: ReadonlyMap<number, string>): StoredEvent {
  const text = originals.get(event.seq);
  return text !== undefined && event.type === 'message' ? { ...event, text } : event;
}

/** On file first, then what the customer said: a later value of the same name wins in `factMap`. */
function knownFacts(events: readonly StoredEvent[], tracker: FactTracker): AgentFact[] {
  const seqOf = (index: number) => events[index]?.seq;
  return [...tracker.factsOnFile(), ...tracker.facts()].map((fact) => {
    const source = seqOf(fact.source);
    return { name: fact.name, value: fact.value, ...(source !== undefined ? { source } : {}) };
  });
}

/** The policy decides; the agent's own request fills in when the policy has none and adds its skills. */
function merge(policy: HandoffRequest | undefined, agent: HandoffRequest | undefined): HandoffRequest | undefined {
  if (!policy) return agent;
  if (!agent) return policy;
  const trigger: HandoffTrigger = policy.trigger;
  return {
    trigger,
    reason: policy.reason ?? agent.reason,
    priority: PRIORITY_RANK[agent.priority] > PRIORITY_RANK[policy.priority] ? agent.priority : policy.priority,
    skills: [...new Set([...policy.skills, ...agent.skills])],
  };
}
