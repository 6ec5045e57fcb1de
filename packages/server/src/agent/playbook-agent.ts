import type { ActionEvent, EventBody, StoredEvent } from '@baton/core';
import { type AgentInput, type AgentStep, type AiAgent, factMap, type HandoffRequest } from './ai-agent.ts';
import { type IntentMatch, type IntentSignals, recognizeIntents } from './intent-recognizer.ts';
import type { Playbook, PlaybookHandoff, PlaybookStep, ToolStep } from './playbook.ts';
import { builtInPlaybooks } from './playbooks/index.ts';
import { maskSecrets } from './tools.ts';

type RunStatus = 'done' | 'waiting' | 'handoff';

const NOT_UNDERSTOOD: EventBody = { type: 'action', name: 'ai.not_understood', actor: 'ai', outcome: 'failed' };

interface ActionEntry {
  seq: number;
  action: ActionEvent;
}

/**
 * One turn's working memory: the log plus what this turn has added, so later steps see earlier ones.
 * What the steps look up (actions by tool, verified identities, customer messages, the last hand-back)
 * is indexed in one pass over the log, so each lookup costs what it finds, not the log's length.
 */
class Turn {
  readonly replies: string[] = [];
  readonly pending: EventBody[] = [];
  handoff: HandoffRequest | undefined;
  readonly facts: Map<string, string>;
  /** Seq of the latest hand-back (0 when none). */
  returnedAt = 0;
  readonly #actions = new Map<string, ActionEntry[]>();
  readonly #verified = new Set<string>();
  /** Customer messages, in order. */
  readonly #customer: { seq: number; text: string }[] = [];
  #nextSeq: number;

  constructor(input: AgentInput) {
    this.facts = factMap(input.facts);
    for (const event of input.events) this.#index(event.seq, event);
    this.#nextSeq = (input.events.at(-1)?.seq ?? 0) + 1;
  }

  #index(seq: number, event: EventBody): void {
    switch (event.type) {
      case 'action': {
        const entries = this.#actions.get(event.name);
        if (entries) entries.push({ seq, action: event });
        else this.#actions.set(event.name, [{ seq, action: event }]);
        return;
      }
      case 'identity':
        if (event.result === 'verified') this.#verified.add(event.method);
        return;
      case 'message':
        if (event.author === 'customer') this.#customer.push({ seq, text: event.text });
        return;
      case 'handoff.returned':
        this.returnedAt = seq;
        return;
      default:
        return;
    }
  }

  add(events: readonly EventBody[]): void {
    for (const event of events) {
      this.#index(this.#nextSeq++, event);
      this.pending.push(event);
      if (event.type === 'fact' && !this.facts.has(event.name)) this.facts.set(event.name, event.value);
    }
  }

  actions(tool: string): readonly ActionEntry[] {
    return this.#actions.get(tool) ?? [];
  }

  lastSucceeded(tool: string): ActionEntry | undefined {
    const entries = this.actions(tool);
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i];
      if (entry?.action.outcome === 'succeeded') return entry;
    }
    return undefined;
  }

  verified(method: string): boolean {
    return this.#verified.has(method);
  }

  customerMessagesAfter(seq: number): { seq: number; text: string }[] {
    let first = this.#customer.length;
    while (first > 0 && (this.#customer[first - 1]?.seq ?? 0) > seq) first--;
    return this.#customer.slice(first);
  }

  /** Resolves a playbook path (see playbook.ts) against what is known now. */
  value(path: string, error?: { code: string; message: string }): string | number | undefined {
    const [head, ...rest] = path.split('.');
    if (head === 'fact') return this.facts.get(rest.join('.'));
    if (head === 'error') return rest[0] === 'code' ? error?.code : rest[0] === 'message' ? error?.message : undefined;
    if (head === 'first_name') {
      const full =
        this.facts.get('full_name') ??
        stringOrUndefined(this.lastSucceeded('lookup_member')?.action.result?.full_name) ??
        stringOrUndefined(this.lastSucceeded('verify_patient')?.action.result?.full_name);
      return full?.trim().split(/\s+/)[0];
    }
    if (head === 'result') {
      const [tool, ...fields] = rest;
      let current: unknown = tool ? this.lastSucceeded(tool)?.action.result : undefined;
      if (current === undefined && tool) current = this.actions(tool).at(-1)?.action.result;
      for (const field of fields) {
        current = current && typeof current === 'object' ? (current as Record<string, unknown>)[field] : undefined;
      }
      return typeof current === 'string' || typeof current === 'number' ? current : undefined;
    }
    return undefined;
  }

  render(template: string, error?: { code: string; message: string }): string {
    return template
      .replace(/\{\{\s*([\w.]+)(?:\|(\w+))?\s*\}\}/g, (_match, path: string, filter?: string) => {
        const value = this.value(path, error);
        if (value === undefined) return '';
        if (filter === 'money') {
          const amount = typeof value === 'number' ? value : Number.parseFloat(value);
          return Number.isFinite(amount) ? `$${amount.toFixed(2)}` : String(value);
        }
        return String(value);
      })
      .replace(/,\s*([.!?])/g, '$1')
      .replace(/\(\s*\)/g, '')
      .replace(/\s{2,}/g, ' ')
      .trim();
  }
}

/** The playbooks of one industry, and the recognised task intents of recent customer messages. */
interface IndustryPlaybooks {
  playbooks: readonly Playbook[];
  tasks: readonly Playbook[];
  /** Reactive playbooks that have phrases to recognise. */
  reactive: readonly Playbook[];
  taskIntents: readonly { id: string; signals: IntentSignals }[];
  reactiveIntents: readonly { id: string; signals: IntentSignals }[];
  taskMatches: Map<string, readonly IntentMatch[]>;
}

const INDUSTRIES_KEPT = 100;
/** Customer message texts whose task intents are kept, per industry (emptied when full). */
const MATCHES_KEPT = 4000;

export interface PlaybookAgentOptions {
  playbooks?: readonly Playbook[];
}

/**
 * The default agent: deterministic, offline, driven by playbooks (data). Every turn it replays the
 * active playbooks against the record, so a step already done is never repeated and a fact already
 * known is never asked for, even across a handoff and back.
 */
export class PlaybookAgent implements AiAgent {
  readonly name = 'playbook';
  readonly #playbooks: readonly Playbook[];
  readonly #industries = new Map<string, IndustryPlaybooks>();

  constructor(options: PlaybookAgentOptions = {}) {
    this.#playbooks = options.playbooks ?? builtInPlaybooks;
  }

  /** The playbooks that apply in an industry, sorted once (industries are few; the map is emptied if not). */
  #forIndustry(industry: string): IndustryPlaybooks {
    let found = this.#industries.get(industry);
    if (!found) {
      const playbooks = this.#playbooks.filter((playbook) => appliesTo(playbook, industry));
      const tasks = playbooks.filter((playbook) => !playbook.reactive);
      const reactive = playbooks.filter((playbook) => playbook.reactive && playbook.signals.phrases.length > 0);
      found = {
        playbooks,
        tasks,
        reactive,
        taskIntents: intentsOf(tasks),
        reactiveIntents: intentsOf(reactive),
        taskMatches: new Map(),
      };
      if (this.#industries.size >= INDUSTRIES_KEPT) this.#industries.clear();
      this.#industries.set(industry, found);
    }
    return found;
  }

  /**
   * The task intents recognised in a customer message, by text: each turn goes through every customer
   * message since the last hand-back, so each is recognised once, not once per turn.
   */
  #taskMatches(industry: string, text: string): readonly IntentMatch[] {
    const { taskMatches, taskIntents } = this.#forIndustry(industry);
    let matches = taskMatches.get(text);
    if (!matches) {
      if (taskMatches.size >= MATCHES_KEPT) taskMatches.clear();
      matches = recognizeIntents(text, taskIntents);
      taskMatches.set(text, matches);
    }
    return matches;
  }

  async *respond(input: AgentInput, signal: AbortSignal): AsyncIterable<AgentStep> {
    const turn = new Turn(input);
    const returnedAt = turn.returnedAt;

    if (input.cause === 'handoff_returned') {
      yield { type: 'events', events: [aiMessage(welcomeBack(turn, input.events))] };
      return;
    }
    if (input.cause === 'customer_waiting') {
      yield { type: 'events', events: [aiMessage(whileWaiting(turn, input))] };
      return;
    }

    const messages = turn.customerMessagesAfter(returnedAt);
    const latest = messages.at(-1);
    if (!latest) return;

    const { playbooks, tasks, reactive, reactiveIntents } = this.#forIndustry(input.conversation.industry);
    const active: { playbook: Playbook; startSeq: number }[] = [];
    for (const message of messages) {
      for (const match of this.#taskMatches(input.conversation.industry, message.text)) {
        if (active.some((entry) => entry.playbook.id === match.id)) continue;
        const playbook = tasks.find((candidate) => candidate.id === match.id);
        if (playbook) active.push({ playbook, startSeq: message.seq });
      }
    }

    let status: RunStatus = 'done';
    for (const { playbook } of active) {
      status = await this.#run(playbook, turn, input, signal);
      yield* drain(turn);
      if (status !== 'done') break;
    }

    if (turn.replies.length === 0 && !turn.handoff) {
      const matched = recognizeIntents(latest.text, reactiveIntents)[0];
      const latestHasTask = this.#taskMatches(input.conversation.industry, latest.text).length > 0;
      const fits = (playbook: Playbook) => !playbook.alone || saysLittleElse(latest.text, playbook);
      const answer =
        (matched && reactive.find((playbook) => playbook.id === matched.id && fits(playbook))) ??
        (latestHasTask ? undefined : playbooks.find((playbook) => playbook.id === 'fallback'));
      if (answer) {
        for (const step of answer.steps) if (step.kind === 'say') turn.replies.push(turn.render(step.text));
        // The escalation policy counts these markers: two turns in a row not understood hand off.
        if (answer.id === 'fallback') turn.add([NOT_UNDERSTOOD]);
        yield* drain(turn);
      }
    }

    if (turn.replies.length > 0) yield { type: 'events', events: [aiMessage(turn.replies.join(' '))] };
    if (turn.handoff) yield { type: 'handoff', request: turn.handoff };
  }

  async #run(playbook: Playbook, turn: Turn, input: AgentInput, signal: AbortSignal): Promise<RunStatus> {
    for (const step of playbook.steps) {
      signal.throwIfAborted();
      const status = await this.#step(step, playbook, turn, input, signal);
      if (status !== 'done') return status;
    }
    return 'done';
  }

  async #step(
    step: PlaybookStep,
    playbook: Playbook,
    turn: Turn,
    input: AgentInput,
    signal: AbortSignal,
  ): Promise<RunStatus> {
    switch (step.kind) {
      case 'ask': {
        const missing = step.facts.filter((fact) => !turn.facts.has(fact));
        const satisfied = step.need === 'any' ? missing.length < step.facts.length : missing.length === 0;
        if (satisfied) return 'done';
        const partial = step.need === 'all' && missing.length < step.facts.length && step.prompts;
        turn.replies.push(
          partial
            ? missing.map((fact) => turn.render(step.prompts?.[fact] ?? step.prompt)).join(' ')
            : turn.render(step.prompt),
        );
        return 'waiting';
      }
      case 'await': {
        const done = turn.lastSucceeded(step.after);
        if (!done) return 'done';
        return turn.customerMessagesAfter(done.seq).length > 0 ? 'done' : 'waiting';
      }
      case 'say':
        turn.replies.push(turn.render(step.text));
        return 'done';
      case 'handoff':
        turn.replies.push(turn.render(step.say));
        turn.handoff = handoffOf(step.handoff, playbook);
        return 'handoff';
      case 'tool':
        return this.#tool(step, playbook, turn, input, signal);
    }
  }

  async #tool(
    step: ToolStep,
    playbook: Playbook,
    turn: Turn,
    input: AgentInput,
    signal: AbortSignal,
  ): Promise<RunStatus> {
    if (step.skipIfVerified && turn.verified(step.skipIfVerified)) return 'done';
    const attempts = turn.actions(step.tool);
    const last = attempts.at(-1);
    if (last?.action.outcome === 'succeeded') return 'done';

    const toolInput: Record<string, unknown> = {};
    for (const [field, path] of Object.entries(step.input)) {
      const value = turn.value(path);
      if (value !== undefined && value !== '') toolInput[field] = value;
    }
    const definition = input.tools.get(step.tool);
    const key = inputKey(toolInput, definition?.secretFields);

    if (step.secret) {
      const sentAt = turn.actions(step.secret.after).at(-1)?.seq ?? 0;
      const after = Math.max(sentAt, last?.seq ?? 0);
      const pattern = new RegExp(step.secret.pattern);
      const withCode = turn
        .customerMessagesAfter(after)
        .map((message) => pattern.exec(message.text)?.[0])
        .filter((code): code is string => code !== undefined)
        .at(-1);
      if (!withCode) {
        // The reply that sent the code already asked for it in this turn.
        if (!turn.pending.some((event) => event.type === 'action' && event.name === step.secret?.after)) {
          turn.replies.push(turn.render(step.secret.prompt));
        }
        return 'waiting';
      }
      toolInput[step.secret.field] = withCode;
    } else if (last && inputKey(last.action.input ?? {}, definition?.secretFields) === key) {
      // Same input failed before: repeating the call would only fail again. Wait for something new.
      const error = last.action.error;
      const stuck = step.replies.stuck ?? (step.stopOnFailure === false ? undefined : step.replies.failed);
      if (step.stopOnFailure === false) return 'done';
      if (stuck && turn.replies.length === 0) {
        turn.replies.push(turn.render(stuck, error ? { code: error.code, message: error.message } : undefined));
      }
      return 'waiting';
    }

    const result = await input.tools.call(step.tool, toolInput, { conversationId: input.conversation.id, signal });
    turn.add(result.events);
    const reply = step.replies[result.outcome];
    if (reply) turn.replies.push(turn.render(reply, result.error));
    if (result.outcome === 'succeeded') return 'done';
    if (step.escalateOn?.includes(result.outcome)) {
      turn.handoff = handoffOf(
        step.handoff ?? { trigger: 'repeated_failure', reason: `${playbook.label}: ${step.tool} ${result.outcome}` },
        playbook,
      );
      return 'handoff';
    }
    return step.stopOnFailure === false && !step.secret ? 'done' : 'waiting';
  }
}

function* drain(turn: Turn): Generator<AgentStep> {
  if (turn.pending.length === 0) return;
  const events = turn.pending.splice(0);
  yield { type: 'events', events };
}

function handoffOf(handoff: PlaybookHandoff, playbook: Playbook): HandoffRequest {
  return {
    trigger: handoff.trigger,
    reason: handoff.reason || playbook.label,
    priority: handoff.priority ?? 'normal',
    skills: [...(handoff.skills ?? [])],
  };
}

function aiMessage(text: string): EventBody {
  return { type: 'message', author: 'ai', text };
}

function intentsOf(playbooks: readonly Playbook[]) {
  return playbooks.map((playbook) => ({ id: playbook.id, signals: playbook.signals }));
}

function appliesTo(playbook: Playbook, industry: string): boolean {
  if (!playbook.industries || industry === 'other' || industry === '') return true;
  return playbook.industries.includes(industry);
}

function inputKey(input: Record<string, unknown>, secretFields: readonly string[] | undefined): string {
  const masked = maskSecrets(input, secretFields);
  return JSON.stringify(
    Object.keys(masked)
      .sort()
      .map((key) => [key, masked[key]]),
  );
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** After a human hands back (S7): say what they did, ask nothing already known. */
function welcomeBack(turn: Turn, events: readonly StoredEvent[]): string {
  let acceptedAt = 0;
  let agentName: string | undefined;
  // The hand-back note is written for the AI, like an internal note: it is never quoted to the customer.
  for (const event of events) {
    if (event.type === 'handoff.accepted') {
      acceptedAt = event.seq;
      agentName = event.agentName ?? agentName;
    }
  }
  const done = events
    .filter((event) => event.seq > acceptedAt && event.type === 'action' && event.outcome === 'succeeded')
    .map((event) => (event.type === 'action' ? event.name.replace(/_/g, ' ') : ''));
  const name = turn.value('first_name');
  const who = agentName ?? 'My colleague';
  const parts = [`Thanks for your patience${name ? `, ${name}` : ''}.`];
  if (done.length > 0) parts.push(`${who} took care of this: ${[...new Set(done)].join(', ')}.`);
  parts.push('Is there anything else I can help you with?');
  return parts.join(' ');
}

const FACT_QUESTIONS: Record<string, string> = {
  order_id: 'your order number',
  email: 'the email address on your account',
  full_name: 'your full name',
  date_of_birth: 'your date of birth',
  member_id: 'your member number',
  account_id: 'your account number',
  phone: 'the phone number on your account',
  card_last4: 'the last 4 digits of the card',
  zip_code: 'your ZIP code',
  street_address: 'your street address',
  username: 'your username',
  amount: 'the amount',
};

/** While the customer waits for a human (S9): where they stand, and at most one missing fact, asked once. */
function whileWaiting(turn: Turn, input: AgentInput): string {
  let requestedAt = 0;
  let queued: { position?: number; estimatedWaitSeconds?: number } | undefined;
  for (const event of input.events) {
    if (event.type === 'handoff.requested') requestedAt = event.seq;
    if (event.type === 'handoff.queued') queued = event;
  }
  const name = turn.value('first_name');
  const parts = [`Thanks for waiting${name ? `, ${name}` : ''}.`];
  if (queued?.position !== undefined) {
    const minutes =
      queued.estimatedWaitSeconds !== undefined ? Math.max(1, Math.round(queued.estimatedWaitSeconds / 60)) : undefined;
    parts.push(
      `You're number ${queued.position} in the queue${minutes !== undefined ? `, about ${minutes} minute${minutes === 1 ? '' : 's'} to go` : ''}.`,
    );
  } else {
    parts.push('A colleague will be with you as soon as one is free.');
  }
  const askedSince = input.events
    .filter((event) => event.seq > requestedAt && event.type === 'message' && event.author === 'ai')
    .map((event) => (event.type === 'message' ? event.text : ''))
    .join(' ');
  const missing = (input.brief?.unknown ?? []).find(
    (fact) => FACT_QUESTIONS[fact] !== undefined && !turn.facts.has(fact) && !askedSince.includes(FACT_QUESTIONS[fact]),
  );
  if (missing) parts.push(`While you wait, could you tell me ${FACT_QUESTIONS[missing]}? That will save time.`);
  else parts.push("They'll see everything we've discussed, so you won't need to repeat anything.");
  return parts.join(' ');
}

/** Words a message may hold besides an `alone` playbook's phrases and still be just that (a "hi there, Sam"). */
const ALONE_WORDS = 3;

/** Whether `text` is little more than the playbook's phrases: at most a few other words. */
function saysLittleElse(text: string, playbook: Playbook): boolean {
  let rest = ` ${text.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ' ')} `;
  for (const phrase of playbook.signals.phrases) rest = rest.split(` ${phrase.text.toLowerCase()} `).join(' ');
  return rest.split(' ').filter((word) => word.length > 0).length <= ALONE_WORDS;
}
