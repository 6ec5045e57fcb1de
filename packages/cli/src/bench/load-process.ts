/**
 * Child process: one load generator. It plays simulated customers (one WebSocket each, like the
 * widget) and simulated agents (one WebSocket each, like the console) against the bare baseline and
 * then against Baton, only through their public HTTP and WebSocket APIs, and reports raw samples with
 * absolute timestamps so the orchestrator can join what a customer sent here with what an agent
 * received in another load process.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { z } from 'zod';
import {
  type BaselineResult,
  type BatonResult,
  type Counters,
  type HandoffMode,
  LoadCommand,
  type LoadReport,
} from './bench-protocol.ts';
import { loadCustomerScripts, loadHandoffRequests } from './customer-scripts.ts';
import { conversationEvidence as tellLog } from './error-evidence.ts';
import { HttpClient, type HttpResponse } from './http-client.ts';
import { inBatches } from './in-batches.ts';
import { LoopStallRecorder } from './loop-stalls.ts';
import { loopLateness } from './process-handle.ts';

/** Wall-clock milliseconds with microsecond resolution, comparable between processes on one machine. */
const now = () => performance.timeOrigin + performance.now();

const AI_REPLY_TIMEOUT_MS = 10_000;
const HANDOFF_TIMEOUT_MS = 20_000;
const AGENT_REPLY_TIMEOUT_MS = 10_000;
/** Customer messages exchanged with the agent before the agent resolves. */
const MESSAGES_WITH_AGENT = 2;
const AGENT_HOLD_MS = 30_000;
const GREETING = 'Hi, I have read the conversation so far and I can take it from here.';

const scripts = loadCustomerScripts();
const handoffLines = loadHandoffRequests();
/** Setup's own requests (the agents' logins). Customers and agents each have their own connections. */
const http = new HttpClient();
/**
 * A console's connections, as a browser keeps to one host. A customer has one: they send one message at
 * a time. Each held from setup to the end, so the server holds as many connections from the first
 * measured second as at the last: one pool shared by a process's 500 customers opened more connections
 * at every burst of slow answers and kept them, and the servers' memory grew with them (250 more sockets
 * in 30 s on PostgreSQL).
 */
const AGENT_CONNECTIONS = 6;
/** Period of the timer that samples this process's event-loop delay in the realistic phase. */
const LOOP_RESOLUTION_MS = 5;
/** Every client the run opened, closed when it finishes. */
const clients: HttpClient[] = [];

function ownClient(connections: number): HttpClient {
  const client = new HttpClient(connections);
  clients.push(client);
  return client;
}

function send(report: LoadReport): void {
  process.send?.(report);
}

class ErrorLog {
  readonly counts: Record<string, number> = {};
  readonly samples: string[] = [];
  total = 0;

  add(kind: string, detail: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.total += 1;
    if (this.samples.length < 20) this.samples.push(`${kind}: ${detail.slice(0, 500)}`);
  }
}

let errors = new ErrorLog();
const counters: Counters = { sent: 0, aiReplies: 0, handoffs: 0, offers: 0, accepted: 0, resolved: 0, errors: 0 };

function websocketUrl(httpUrl: string, path: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}${path}`;
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reading the reply, then typing the next line at chat speed (about 5 characters a second). */
function thinkTimeMs(text: string, scale: number): number {
  const seconds = Math.min(20, Math.max(3, 2 + text.length / 5));
  return seconds * 1000 * scale * (0.7 + Math.random() * 0.6);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorCode(body: unknown): string {
  const parsed = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).safeParse(body);
  return parsed.success ? `${parsed.data.error.code}: ${parsed.data.error.message}` : JSON.stringify(body);
}

// ---------------------------------------------------------------------------------------------------
// Baseline: the same customers, the same pauses, the same client, against the bare server.

/** The baseline counts its own errors; Baton's, when it runs between Baton's phases, are kept for `finish`. */
async function runBaseline(command: Extract<LoadCommand, { cmd: 'baseline' }>): Promise<BaselineResult> {
  const batonErrors = errors;
  errors = new ErrorLog();
  try {
    return await measureBaseline(command);
  } finally {
    errors = batonErrors;
  }
}

async function measureBaseline(command: Extract<LoadCommand, { cmd: 'baseline' }>): Promise<BaselineResult> {
  const echoRttMs: number[] = [];
  const deliveryMs: number[] = [];
  const ids = Array.from({ length: command.customers }, (_, index) => `${process.pid}-${index}`);
  const pending = new Map<string, number>();
  const sockets = new Map<string, WebSocket>();
  // One connection per customer, as Baton's customers have: the same client for both servers.
  const connections = new Map(ids.map((id) => [id, new HttpClient(1)]));
  await inBatches(ids, 50, async (id) => {
    const socket = await openSocket(websocketUrl(command.url, `/ws?id=${id}`));
    socket.on('message', (data) => {
      const at = now();
      const frame = JSON.parse(data.toString()) as { type?: string; t?: number };
      if (frame.type === 'echo' && typeof frame.t === 'number') echoRttMs.push(at - frame.t);
      if (frame.type === 'event') {
        const sentAt = pending.get(id);
        if (sentAt !== undefined) deliveryMs.push(at - sentAt);
        pending.delete(id);
      }
    });
    sockets.set(id, socket);
  });

  let realisticMessages = 0;
  const end = now() + command.durationMs;
  await Promise.all(
    (command.durationMs > 0 ? ids : []).map(async (id, index) => {
      const script = scripts[index % scripts.length]!;
      let line = Math.floor(Math.random() * script.lines.length);
      // Bounded by the end as every later pause is: a customer whose first pause outlasts the phase sends
      // nothing, and must not hold the phase open until it is over (up to 26 s against the default 7.5).
      await sleep(
        Math.min(Math.random() * thinkTimeMs(script.lines[line]!, command.thinkScale), Math.max(0, end - now())),
      );
      while (now() < end) {
        const text = script.lines[line % script.lines.length]!;
        line += 1;
        sockets.get(id)?.send(JSON.stringify({ type: 'echo', t: now() }));
        pending.set(id, now());
        try {
          const response = await connections.get(id)!.send('POST', `${command.url}/deliver`, { to: id, text });
          if (response.status === 200) realisticMessages += 1;
          else errors.add(`http_${response.status}_deliver`, errorCode(response.body));
        } catch (error) {
          errors.add('request_failed', describe(error));
        }
        await sleep(Math.min(thinkTimeMs(text, command.thinkScale), Math.max(0, end - now())));
      }
    }),
  );

  const saturation = await saturate(command.saturateMs, command.concurrency, ids, async (id, text) => {
    const response = await connections.get(id)!.send('POST', `${command.url}/deliver`, { to: id, text });
    return response.status === 200 ? undefined : `http_${response.status}_deliver`;
  });
  for (const socket of sockets.values()) socket.terminate();
  for (const connection of connections.values()) connection.close();
  return { echoRttMs, deliveryMs, realisticMessages, saturation, errors: errors.counts, errorSamples: errors.samples };
}

/** Closed loop: `concurrency` senders, each posting the next message as soon as the last was acknowledged. */
async function saturate<T>(
  durationMs: number,
  concurrency: number,
  targets: readonly T[],
  post: (target: T, text: string) => Promise<string | undefined>,
): Promise<{ messages: number; seconds: number }> {
  if (targets.length === 0 || concurrency <= 0) return { messages: 0, seconds: 0 };
  let messages = 0;
  let cursor = 0;
  const started = now();
  const end = started + durationMs;
  const worker = async () => {
    while (now() < end) {
      const index = cursor++;
      const target = targets[index % targets.length]!;
      const script = scripts[index % scripts.length]!;
      const text = script.lines[index % script.lines.length]!;
      try {
        const failure = await post(target, text);
        if (failure) errors.add(failure, 'during saturation');
        else messages += 1;
      } catch (error) {
        errors.add('request_failed', describe(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { messages, seconds: (now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------------
// Baton.

const EventFrame = z.object({
  type: z.literal('event'),
  event: z.looseObject({
    conversationId: z.string(),
    seq: z.number(),
    type: z.string(),
    author: z.string().optional(),
    text: z.string().optional(),
    estimatedWaitSeconds: z.number().optional(),
  }),
});
const DeskFrame = z.object({
  type: z.literal('desk'),
  name: z.string(),
  payload: z.record(z.string(), z.unknown()),
});
const ErrorFrame = z.object({ type: z.literal('error'), error: z.object({ code: z.string(), message: z.string() }) });
const ServerFrame = z.union([EventFrame, DeskFrame, ErrorFrame, z.object({ type: z.string() })]);

const CreatedConversation = z.object({
  conversation: z.object({ id: z.string() }),
  customerToken: z.string(),
});
const AppendedEvent = z.object({ event: z.object({ seq: z.number() }) });
const ResolveRefused = z.object({
  error: z.object({
    code: z.literal('conflict'),
    details: z.object({ reason: z.literal('customer_wrote'), lastCustomerMessageSeq: z.number() }),
  }),
});
const LoginAnswer = z.object({ token: z.string(), agent: z.object({ id: z.string() }) });
const OfferPayload = z.looseObject({
  conversationId: z.string(),
  agentId: z.string().optional(),
  /** Offer notices also announce accepted, declined, expired and cancelled offers: only `open` is new. */
  state: z.string().optional(),
  brief: z.unknown().optional(),
});

type Phase = 'ai' | 'handoff' | 'agent' | 'leaving';

interface Customer {
  index: number;
  url: string;
  /** This customer's own connection to `url` (see AGENT_CONNECTIONS). */
  http: HttpClient;
  conversationId: string;
  token: string;
  socket: WebSocket | undefined;
  phase: Phase;
  wantsHandoff: boolean;
  script: (typeof scripts)[number];
  /** Which script the customer plays in this conversation (each new conversation plays the next one). */
  scriptIndex: number;
  line: number;
  aiMessages: number;
  agentMessages: number;
  handoffRequested: boolean;
  resolved: boolean;
  /** Seq of the `handoff.resolved` this customer saw: messages after it were not written to an agent. */
  resolvedSeq: number | undefined;
  /** The one customer message in flight, for the echo on the customer's own socket. */
  lastSent: { text: string; at: number } | undefined;
  aiPendingSince: number | undefined;
  pingSentAt: number | undefined;
  wake: Set<() => void>;
}

interface OwnedConversation {
  customerMessages: number;
  /** Resolving: later customer messages (a saturating sender keeps writing) are not answered. */
  closing: boolean;
  /** Answers go out one at a time, so none can follow the resolution. */
  chain: Promise<void>;
  /** When the customer last wrote: an agent does not wrap up on a customer in mid-exchange. */
  lastCustomerAt: number;
  /** The last event this console has shown: a resolve sends it (`seenSeq`), as the console does. */
  seenSeq: number;
}

interface BenchAgent {
  email: string;
  id: string;
  token: string;
  url: string;
  /** This console's own connections to `url`. */
  http: HttpClient;
  socket: WebSocket;
  owned: Map<string, OwnedConversation>;
  /** Conversations whose offer this agent is accepting: an offer announced twice is taken once. */
  taking: Set<string>;
  /** Called when the server says the desk subscription is live. */
  onSubscribed?: () => void;
}

interface BatonState {
  urls: string[];
  customers: Customer[];
  agents: BenchAgent[];
  expectAi: boolean;
  handoffMode: HandoffMode;
  fetchBrief: boolean;
  running: boolean;
  /** Samples that start before this instant (epoch ms) are the warm-up's: not counted. */
  measureFrom: number;
  result: BatonResult;
}

/** Whether something that started at `at` (epoch ms) falls in the measured part of the realistic phase. */
function measured(at: number): boolean {
  return baton !== undefined && at >= baton.measureFrom;
}

let baton: BatonState | undefined;

function emptyResult(): BatonResult {
  return {
    aiReplyMs: [],
    streamMs: [],
    echoRttMs: [],
    triggers: [],
    waitedForAgent: [],
    resolvesRefused: 0,
    offers: [],
    accepts: [],
    ownerSends: [],
    ownerReceipts: [],
    persisted: { customer: 0, ai: 0, agent: 0 },
    realisticSeconds: 0,
    saturation: { messages: 0, seconds: 0, aiReplies: 0 },
    setupSeconds: 0,
    loopDelayMs: { p99: 0, max: 0 },
    pauses: { stalls: [], gcTimeline: [] },
    errors: {},
    errorSamples: [],
  };
}

function notify(customer: Customer): void {
  for (const wake of customer.wake) wake();
}

/** Resolves true once `done()` holds, false after `timeoutMs` or when the run stops (not yet started, in setup). */
function waitUntil(customer: Customer, done: () => boolean, timeoutMs: number, duringSetup = false): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (value: boolean) => {
      clearTimeout(timer);
      customer.wake.delete(check);
      resolve(value);
    };
    const check = () => {
      if (done()) finish(true);
      else if (!baton?.running && !duringSetup) finish(false);
    };
    const timer = setTimeout(() => finish(done()), timeoutMs);
    customer.wake.add(check);
  });
}

async function setup(command: Extract<LoadCommand, { cmd: 'setup' }>): Promise<void> {
  errors = new ErrorLog();
  const started = now();
  const state: BatonState = {
    urls: command.urls,
    customers: [],
    agents: [],
    expectAi: command.expectAi,
    handoffMode: command.handoffMode,
    fetchBrief: command.fetchBrief,
    running: false,
    measureFrom: Number.POSITIVE_INFINITY,
    result: emptyResult(),
  };
  baton = state;
  await inBatches(
    command.agents.map((agent, index) => ({ ...agent, url: command.urls[index % command.urls.length]! })),
    10,
    async (credentials) => {
      const login = await http.send('POST', `${credentials.url}/v1/auth/login`, {
        email: credentials.email,
        password: credentials.password,
      });
      const parsed = LoginAnswer.safeParse(login.body);
      if (!parsed.success) throw new Error(`login ${credentials.email}: ${login.status} ${errorCode(login.body)}`);
      const socket = await openSocket(
        websocketUrl(credentials.url, `/v1/stream?token=${encodeURIComponent(parsed.data.token)}`),
      );
      const agent: BenchAgent = {
        email: credentials.email,
        id: parsed.data.agent.id,
        token: parsed.data.token,
        url: credentials.url,
        http: ownClient(AGENT_CONNECTIONS),
        socket,
        owned: new Map(),
        taking: new Set(),
      };
      socket.on('message', (data) => onAgentFrame(agent, data.toString()));
      socket.on('close', () => {
        if (state.running) errors.add('ws_closed', `agent ${agent.email}`);
      });
      // A console counts on the desk once the server says it listens: offers made before then reach it
      // when it does (the server announces them again), but the load starts only once every agent listens.
      const subscribed = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`desk subscription of ${agent.email}: no answer`)), 60_000);
        agent.onSubscribed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      socket.send(JSON.stringify({ type: 'subscribe_desk' }));
      await subscribed;
      state.agents.push(agent);
    },
  );
  const indexes = Array.from({ length: command.customers }, (_, index) => index);
  await inBatches(indexes, 25, async (index) => {
    const scriptIndex = index + process.pid;
    const customer: Customer = {
      index,
      url: command.urls[index % command.urls.length]!,
      http: ownClient(1),
      conversationId: '',
      token: '',
      socket: undefined,
      phase: 'ai',
      wantsHandoff: false,
      script: scripts[scriptIndex % scripts.length]!,
      scriptIndex,
      line: 0,
      aiMessages: 0,
      agentMessages: 0,
      handoffRequested: false,
      resolved: false,
      resolvedSeq: undefined,
      lastSent: undefined,
      aiPendingSince: undefined,
      pingSentAt: undefined,
      wake: new Set(),
    };
    await startConversation(customer);
    await prefill(customer);
    state.customers.push(customer);
  });
  state.result.setupSeconds = (now() - started) / 1000;
}

async function startConversation(customer: Customer): Promise<void> {
  const state = baton!;
  const created = await customer.http.send('POST', `${customer.url}/v1/conversations`, {
    industry: customer.script.industry,
    customerName: `Bench customer ${process.pid}-${customer.index}`,
  });
  const parsed = CreatedConversation.safeParse(created.body);
  if (!parsed.success) throw new Error(`create conversation: ${created.status} ${errorCode(created.body)}`);
  customer.conversationId = parsed.data.conversation.id;
  customer.token = parsed.data.customerToken;
  customer.phase = 'ai';
  customer.line = 0;
  customer.aiMessages = 0;
  customer.agentMessages = 0;
  customer.handoffRequested = false;
  customer.resolved = false;
  customer.resolvedSeq = undefined;
  customer.lastSent = undefined;
  customer.aiPendingSince = undefined;
  const socket = await openSocket(
    websocketUrl(
      customer.url,
      `/v1/stream?customerToken=${encodeURIComponent(customer.token)}&conversationId=${customer.conversationId}`,
    ),
  );
  const conversationId = customer.conversationId;
  socket.on('message', (data) => onCustomerFrame(customer, conversationId, data.toString()));
  socket.on('close', () => {
    if (state.running && customer.socket === socket) errors.add('ws_closed', `customer ${conversationId}`);
  });
  socket.send(JSON.stringify({ type: 'subscribe', conversationId, after: 0 }));
  customer.socket = socket;
}

function onCustomerFrame(customer: Customer, conversationId: string, text: string): void {
  const at = now();
  const state = baton!;
  const frame = ServerFrame.safeParse(JSON.parse(text));
  if (!frame.success) {
    errors.add('bad_frame', text);
    return;
  }
  const data = frame.data;
  if ('error' in data) {
    errors.add(`ws_${data.error.code}`, data.error.message);
    return;
  }
  if (data.type === 'pong' && customer.pingSentAt !== undefined) {
    if (measured(customer.pingSentAt)) state.result.echoRttMs.push(at - customer.pingSentAt);
    customer.pingSentAt = undefined;
    return;
  }
  if (!('event' in data) || data.event.conversationId !== conversationId) return;
  const event = data.event;
  if (event.type === 'message') {
    if (event.author === 'customer' && customer.lastSent && event.text === customer.lastSent.text.trim()) {
      if (measured(customer.lastSent.at)) state.result.streamMs.push(at - customer.lastSent.at);
      customer.lastSent = undefined;
    } else if (event.author === 'ai') {
      customer.aiMessages += 1;
      if (measured(at)) state.result.persisted.ai += 1;
      counters.aiReplies += 1;
      if (customer.aiPendingSince !== undefined) {
        if (measured(customer.aiPendingSince)) state.result.aiReplyMs.push(at - customer.aiPendingSince);
        customer.aiPendingSince = undefined;
      }
    } else if (event.author === 'agent') {
      customer.agentMessages += 1;
    }
  } else if (event.type === 'handoff.requested') {
    customer.handoffRequested = true;
  } else if (event.type === 'handoff.queued' && event.estimatedWaitSeconds !== 0) {
    state.result.waitedForAgent.push(conversationId);
  } else if (event.type === 'handoff.resolved') {
    customer.resolved = true;
    customer.resolvedSeq = event.seq;
    // Written while the agent was resolving (the POST returned first): the agent had let go already.
    const sends = state.result.ownerSends;
    state.result.ownerSends = sends.filter((sent) => sent.conversationId !== conversationId || sent.seq < event.seq);
  }
  notify(customer);
}

/** Posts a customer message; returns its seq, or undefined after recording the error. */
async function postCustomerMessage(customer: Customer, text: string): Promise<number | undefined> {
  const state = baton!;
  customer.lastSent = { text, at: now() };
  try {
    const response = await customer.http.send(
      'POST',
      `${customer.url}/v1/conversations/${customer.conversationId}/messages`,
      { text },
      { 'x-customer-token': customer.token },
    );
    const parsed = AppendedEvent.safeParse(response.body);
    if (response.status >= 300 || !parsed.success) {
      errors.add(`http_${response.status}_customer_message`, errorCode(response.body));
      return undefined;
    }
    if (measured(now())) state.result.persisted.customer += 1;
    counters.sent += 1;
    return parsed.data.event.seq;
  } catch (error) {
    errors.add('request_failed', describe(error));
    return undefined;
  }
}

/**
 * Brings a new customer's conversation to a random point of its script at typing speed zero, so the run
 * starts from the mix of young and old conversations a desk that has been open for a while holds (and
 * the server's per-conversation memory at its steady size), not from a thousand empty ones that all age
 * together. Stops at a handoff: the run's loop picks it up.
 */
async function prefill(customer: Customer): Promise<void> {
  const lines = Math.floor(Math.random() * customer.script.lines.length);
  for (let sent = 0; sent < lines && !customer.handoffRequested; sent++) {
    const before = customer.aiMessages;
    const seq = await postCustomerMessage(customer, nextLine(customer));
    if (seq === undefined) return;
    if (!baton?.expectAi) continue;
    const answered = await waitUntil(
      customer,
      () => customer.aiMessages > before || customer.handoffRequested,
      AI_REPLY_TIMEOUT_MS,
      true,
    );
    if (!answered) errors.add('ai_reply_timeout', `${customer.conversationId} (prefill)`);
  }
  customer.lastSent = undefined;
}

/** A customer whose script is played out has what they came for and leaves; a new customer opens a chat. */
async function leaveAndReturn(customer: Customer, thinkScale: number): Promise<void> {
  const state = baton!;
  customer.phase = 'leaving';
  const previous = customer.socket;
  customer.socket = undefined;
  previous?.close();
  await sleep(Math.random() * thinkTimeMs('', thinkScale));
  if (!state.running) return;
  customer.scriptIndex += 1;
  customer.script = scripts[customer.scriptIndex % scripts.length]!;
  try {
    await startConversation(customer);
  } catch (error) {
    errors.add('restart_failed', describe(error));
    await sleep(1000);
  }
}

function nextLine(customer: Customer): string {
  const text = customer.script.lines[customer.line % customer.script.lines.length]!;
  customer.line += 1;
  return text;
}

async function customerLoop(customer: Customer, thinkScale: number): Promise<void> {
  const state = baton!;
  const firstPause = Math.random() * thinkTimeMs(customer.script.lines[0]!, thinkScale);
  await waitUntil(customer, () => customer.wantsHandoff, firstPause);
  let lastSentAt: number | undefined;
  while (state.running) {
    if (customer.handoffRequested) {
      // The AI escalated on its own (frustration, repeated failure, policy), during its turn on the
      // last message or right after its reply: a handoff triggered by that message.
      if (lastSentAt !== undefined) {
        if (measured(lastSentAt))
          state.result.triggers.push({ conversationId: customer.conversationId, at: lastSentAt });
        counters.handoffs += 1;
      }
      lastSentAt = undefined;
      await withAgent(customer, thinkScale);
      continue;
    }
    if (customer.wantsHandoff) {
      lastSentAt = undefined;
      await handoffConversation(customer, thinkScale);
      continue;
    }
    if (customer.line >= customer.script.lines.length) {
      lastSentAt = undefined;
      await leaveAndReturn(customer, thinkScale);
      continue;
    }
    const text = nextLine(customer);
    const sentAt = now();
    lastSentAt = sentAt;
    const aiBefore = customer.aiMessages;
    if (state.expectAi) customer.aiPendingSince = sentAt;
    const seq = await postCustomerMessage(customer, text);
    if (seq !== undefined && state.expectAi) {
      const answered = await waitUntil(
        customer,
        () => customer.aiMessages > aiBefore || customer.handoffRequested,
        AI_REPLY_TIMEOUT_MS,
      );
      if (!answered && state.running) errors.add('ai_reply_timeout', customer.conversationId);
    }
    await waitUntil(customer, () => customer.wantsHandoff || customer.handoffRequested, thinkTimeMs(text, thinkScale));
  }
}

async function handoffConversation(customer: Customer, thinkScale: number): Promise<void> {
  const state = baton!;
  customer.wantsHandoff = false;
  customer.phase = 'handoff';
  counters.handoffs += 1;
  const text = handoffLines[Math.floor(Math.random() * handoffLines.length)]!;
  const sentAt = now();
  if (measured(sentAt)) state.result.triggers.push({ conversationId: customer.conversationId, at: sentAt });
  if (state.handoffMode === 'message') {
    await postCustomerMessage(customer, text);
  } else {
    const response = await http
      .send(
        'POST',
        `${customer.url}/v1/conversations/${customer.conversationId}/handoff`,
        { reason: text },
        { 'x-customer-token': customer.token },
      )
      .catch((error: unknown) => ({ status: 0, body: describe(error) }));
    if (response.status >= 300 || response.status === 0) {
      errors.add(`http_${response.status}_handoff`, errorCode(response.body));
    }
  }
  await withAgent(customer, thinkScale);
}

/** After a handoff: wait for the agent, exchange a few messages, wait for resolution, start afresh. */
async function withAgent(customer: Customer, thinkScale: number): Promise<void> {
  const state = baton!;
  customer.phase = 'handoff';
  customer.aiPendingSince = undefined;
  const greeted = await waitUntil(customer, () => customer.agentMessages > 0, HANDOFF_TIMEOUT_MS);
  if (!greeted) {
    if (state.running) errors.add('handoff_not_answered', await tellLog(customer, undefined));
  } else {
    customer.phase = 'agent';
    for (let exchanged = 0; exchanged < MESSAGES_WITH_AGENT && state.running; exchanged++) {
      const text = nextLine(customer);
      await sleep(Math.min(thinkTimeMs(text, thinkScale), 3000 * thinkScale));
      // The agent may have wrapped up already (it answers a customer who wrote before the greeting too).
      if (customer.resolved) break;
      const before = customer.agentMessages;
      const sentAt = now();
      const seq = await postCustomerMessage(customer, text);
      if (seq === undefined) break;
      const toAgent = customer.resolvedSeq === undefined || seq < customer.resolvedSeq;
      if (measured(sentAt) && toAgent) {
        state.result.ownerSends.push({ conversationId: customer.conversationId, seq, at: sentAt });
      }
      // The agent may wrap up a customer gone quiet while they type: a message written after the resolve
      // went back to the AI, and no agent owes it a reply (the customer learns of the resolve only later).
      const writtenAfterResolve = () => customer.resolvedSeq !== undefined && seq > customer.resolvedSeq;
      const replied = await waitUntil(
        customer,
        () => customer.agentMessages > before || writtenAfterResolve(),
        AGENT_REPLY_TIMEOUT_MS,
      );
      if (!replied && state.running) {
        errors.add('agent_reply_timeout', await tellLog(customer, seq, `agent messages seen ${before}`));
      }
    }
    const resolved = await waitUntil(customer, () => customer.resolved, AGENT_REPLY_TIMEOUT_MS);
    if (!resolved && state.running) errors.add('resolve_timeout', customer.conversationId);
  }
  if (!state.running) return;
  await leaveAndReturn(customer, 0);
}

function onAgentFrame(agent: BenchAgent, text: string): void {
  const at = now();
  const state = baton!;
  const frame = ServerFrame.safeParse(JSON.parse(text));
  if (!frame.success) {
    errors.add('bad_frame', text);
    return;
  }
  const data = frame.data;
  if ('error' in data) {
    errors.add(`ws_${data.error.code}`, data.error.message);
    return;
  }
  if ('name' in data && data.name === 'desk.subscribed') {
    agent.onSubscribed?.();
    return;
  }
  if ('name' in data && data.name === 'offer') {
    const offer = OfferPayload.safeParse(data.payload);
    if (!offer.success || (offer.data.agentId !== undefined && offer.data.agentId !== agent.id)) return;
    if (offer.data.state !== undefined && offer.data.state !== 'open') return;
    const conversationId = offer.data.conversationId;
    if (agent.taking.has(conversationId) || agent.owned.has(conversationId)) return;
    agent.taking.add(conversationId);
    void takeOffer(agent, conversationId, at, offer.data.brief !== undefined, () =>
      agent.taking.delete(conversationId),
    );
    return;
  }
  if (!('event' in data)) return;
  const event = data.event;
  const owned = agent.owned.get(event.conversationId);
  if (!owned) return;
  owned.seenSeq = Math.max(owned.seenSeq, event.seq);
  if (event.type !== 'message' || event.author !== 'customer') return;
  owned.lastCustomerAt = at;
  state.result.ownerReceipts.push({ conversationId: event.conversationId, seq: event.seq, at });
  if (owned.closing) return;
  owned.customerMessages += 1;
  const last = owned.customerMessages >= MESSAGES_WITH_AGENT;
  owned.closing = last;
  owned.chain = owned.chain.then(() => answer(agent, event.conversationId, last));
}

function agentHeaders(agent: BenchAgent): Record<string, string> {
  return { authorization: `Bearer ${agent.token}` };
}

async function takeOffer(
  agent: BenchAgent,
  conversationId: string,
  at: number,
  briefInOffer: boolean,
  /** Called once the accept is decided, the conversation owned or not. */
  settled: () => void,
) {
  const state = baton!;
  counters.offers += 1;
  const offer: BatonResult['offers'][number] = { conversationId, at, agentEmail: agent.email, briefInOffer };
  state.result.offers.push(offer);
  try {
    if (!briefInOffer && state.fetchBrief) {
      // The console fetches the brief when the offer carries none: the brief is on screen only then.
      const brief = await agent.http.send(
        'GET',
        `${agent.url}/v1/conversations/${conversationId}/brief`,
        undefined,
        agentHeaders(agent),
      );
      if (brief.status === 200) offer.briefAt = now();
      else errors.add(`http_${brief.status}_brief`, errorCode(brief.body));
    } else if (briefInOffer) {
      offer.briefAt = at;
    }
    const acceptReply = await agent.http.send(
      'POST',
      `${agent.url}/v1/conversations/${conversationId}/accept`,
      {},
      agentHeaders(agent),
    );
    state.result.accepts.push({ conversationId, at: now(), agentEmail: agent.email, status: acceptReply.status });
    if (acceptReply.status >= 300) {
      errors.add(`http_${acceptReply.status}_accept`, errorCode(acceptReply.body));
      return;
    }
    counters.accepted += 1;
    const seq = AppendedEvent.safeParse(acceptReply.body).data?.event.seq ?? 0;
    const owned: OwnedConversation = {
      customerMessages: 0,
      closing: false,
      chain: Promise.resolve(),
      lastCustomerAt: now(),
      seenSeq: seq,
    };
    agent.owned.set(conversationId, owned);
    agent.socket.send(JSON.stringify({ type: 'subscribe', conversationId, after: seq }));
    owned.chain = agentMessage(agent, conversationId, GREETING).then(
      () => undefined,
      (error: unknown) => errors.add('request_failed', describe(error)),
    );
    // A customer who never writes back (the AI escalated on its own, or the run ended) must not hold
    // the agent's capacity for ever: the agent wraps up, as a real one would.
    const wrapUpIfSilent = () => {
      if (agent.owned.get(conversationId) !== owned || owned.closing) return;
      const silentMs = now() - owned.lastCustomerAt;
      if (silentMs < AGENT_HOLD_MS) {
        setTimeout(wrapUpIfSilent, AGENT_HOLD_MS - silentMs).unref();
        return;
      }
      owned.closing = true;
      owned.chain = owned.chain.then(() => answer(agent, conversationId, true, false));
    };
    setTimeout(wrapUpIfSilent, AGENT_HOLD_MS).unref();
    await owned.chain;
  } catch (error) {
    errors.add('request_failed', describe(error));
  } finally {
    settled();
  }
}

async function agentMessage(agent: BenchAgent, conversationId: string, text: string): Promise<boolean> {
  const response = await agent.http.send(
    'POST',
    `${agent.url}/v1/conversations/${conversationId}/messages`,
    { text },
    agentHeaders(agent),
  );
  if (response.status >= 300) {
    errors.add(`http_${response.status}_agent_message`, errorCode(response.body));
    return false;
  }
  if (measured(now())) baton!.result.persisted.agent += 1;
  return true;
}

/**
 * Resolves an agent asks for with `seenSeq` before it closes regardless: a customer who writes without
 * pause (the saturation's senders) would otherwise keep the conversation open for ever.
 */
const RESOLVE_ATTEMPTS = 3;
const AGENT_REPLY = 'Thanks, that helps. Give me a moment while I sort this out.';

/** `details.lastCustomerMessageSeq` of a resolve the server refused because the customer wrote meanwhile. */
function customerWroteSince(response: HttpResponse): number | undefined {
  if (response.status !== 409) return undefined;
  const refused = ResolveRefused.safeParse(response.body);
  return refused.success ? refused.data.error.details.lastCustomerMessageSeq : undefined;
}

/** The agent's reply, a moment after the customer's message (reading, typing). */
async function replyAfterReading(agent: BenchAgent, conversationId: string): Promise<void> {
  await sleep(300 + Math.random() * 300);
  await agentMessage(agent, conversationId, AGENT_REPLY);
}

async function answer(agent: BenchAgent, conversationId: string, andResolve: boolean, reply = true): Promise<void> {
  try {
    if (reply) await replyAfterReading(agent, conversationId);
    if (!andResolve) return;
    // As the console does: the resolve names the last event on screen, and the server refuses it when the
    // customer wrote after that (they wrote while the agent was closing). The agent answers, then resolves
    // again, naming the message it answered.
    let seenSeq = agent.owned.get(conversationId)?.seenSeq;
    for (let attempt = 1; ; attempt++) {
      const guarded = seenSeq !== undefined && attempt <= RESOLVE_ATTEMPTS;
      const resolved = await agent.http.send(
        'POST',
        `${agent.url}/v1/conversations/${conversationId}/resolve`,
        { summary: 'Handled by the bench agent.', ...(guarded ? { seenSeq } : {}) },
        agentHeaders(agent),
      );
      const unseen = guarded ? customerWroteSince(resolved) : undefined;
      if (unseen !== undefined) {
        baton!.result.resolvesRefused += 1;
        await replyAfterReading(agent, conversationId);
        seenSeq = unseen;
        continue;
      }
      if (resolved.status >= 300) errors.add(`http_${resolved.status}_resolve`, errorCode(resolved.body));
      else counters.resolved += 1;
      break;
    }
  } catch (error) {
    errors.add('request_failed', describe(error));
  } finally {
    if (andResolve) {
      agent.owned.delete(conversationId);
      if (agent.socket.readyState === agent.socket.OPEN) {
        agent.socket.send(JSON.stringify({ type: 'unsubscribe', conversationId }));
      }
    }
  }
}

async function run(command: Extract<LoadCommand, { cmd: 'run' }>): Promise<void> {
  const state = baton;
  if (!state) throw new Error('run before setup');
  state.running = true;
  state.measureFrom = command.measureFrom;
  const started = Math.max(now(), command.measureFrom);
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  const stalls = new LoopStallRecorder();
  const loops = state.customers.map((customer) => customerLoop(customer, command.thinkScale));
  // Echo pings over the customers' own sockets sample Baton's WebSocket round trip beside the baseline's.
  const pinger = setInterval(() => {
    const customer = state.customers[Math.floor(Math.random() * state.customers.length)];
    if (!customer?.socket || customer.pingSentAt !== undefined) return;
    customer.pingSentAt = now();
    customer.socket.send(JSON.stringify({ type: 'ping' }));
  }, 20);
  const scheduler =
    command.handoffRate > 0
      ? setInterval(() => {
          const idle = state.customers.filter((customer) => customer.phase === 'ai' && !customer.wantsHandoff);
          const chosen = idle[Math.floor(Math.random() * idle.length)];
          if (!chosen) return;
          chosen.wantsHandoff = true;
          notify(chosen);
        }, 1000 / command.handoffRate)
      : undefined;
  await sleep(command.durationMs);
  clearInterval(scheduler);
  clearInterval(pinger);
  state.running = false;
  state.result.realisticSeconds = Math.max(0, now() - started) / 1000;
  loopDelay.disable();
  // What exceeds the timer's period (until 2026-11-27 the whole interval: this figure read 5 ms high).
  const { p99, max } = loopLateness(loopDelay, LOOP_RESOLUTION_MS);
  state.result.loopDelayMs = { p99, max };
  const { stalls: stalled, gcTimeline } = stalls.take();
  stalls.stop();
  state.result.pauses = { stalls: stalled, gcTimeline };
  for (const customer of state.customers) notify(customer);
  await Promise.race([Promise.all(loops), sleep(5000)]);
}

async function saturateBaton(command: Extract<LoadCommand, { cmd: 'saturate' }>): Promise<void> {
  const state = baton;
  if (!state) throw new Error('saturate before setup');
  const available = state.customers.filter((customer) => customer.phase === 'ai' && customer.conversationId !== '');
  const aiRepliesBefore = counters.aiReplies;
  const saturation = await saturate(command.durationMs, command.concurrency, available, async (customer, text) => {
    const response = await customer.http.send(
      'POST',
      `${customer.url}/v1/conversations/${customer.conversationId}/messages`,
      { text },
      { 'x-customer-token': customer.token },
    );
    return response.status < 300 ? undefined : `http_${response.status}_customer_message`;
  });
  state.result.saturation = { ...saturation, aiReplies: counters.aiReplies - aiRepliesBefore };
}

function finishBaton(): BatonResult {
  const state = baton;
  if (!state) return emptyResult();
  state.running = false;
  for (const customer of state.customers) customer.socket?.terminate();
  for (const agent of state.agents) agent.socket.terminate();
  return { ...state.result, errors: errors.counts, errorSamples: errors.samples };
}

const progress = setInterval(() => {
  counters.errors = errors.total;
  send({ type: 'progress', counters });
}, 500);

process.on('message', (message: unknown) => {
  const parsed = LoadCommand.safeParse(message);
  if (!parsed.success) return send({ type: 'fatal', message: `bad command: ${parsed.error.message}` });
  const command = parsed.data;
  const task = async () => {
    switch (command.cmd) {
      case 'baseline':
        send({ type: 'baseline-result', result: await runBaseline(command) });
        return;
      case 'setup':
        await setup(command);
        send({ type: 'phase-done', phase: 'setup' });
        return;
      case 'run':
        await run(command);
        send({ type: 'phase-done', phase: 'run' });
        return;
      case 'saturate':
        await saturateBaton(command);
        send({ type: 'phase-done', phase: 'saturate' });
        return;
      case 'finish':
        clearInterval(progress);
        http.close();
        for (const client of clients) client.close();
        // Disconnect only once the result is written: a large result sent just before disconnect() was
        // lost at the default load, and the parent saw the process exit instead of its answer.
        process.send?.({ type: 'baton-result', result: finishBaton() } satisfies LoadReport, undefined, undefined, () =>
          process.disconnect?.(),
        );
        return;
    }
  };
  task().catch((error: unknown) => send({ type: 'fatal', message: describe(error) }));
});

process.on('disconnect', () => process.exit(0));
// A clean exit on the parent's SIGTERM too, so that --cpu-prof gets to write the profile.
process.on('SIGTERM', () => process.exit(0));
send({ type: 'ready' });
