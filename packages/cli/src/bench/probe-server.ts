import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { z } from 'zod';
import type { HandoffMode, PausesReport } from './bench-protocol.ts';
import { type HandoffAnatomy, type HandoffSample, handoffAnatomy } from './handoff-samples.ts';
import { HttpClient } from './http-client.ts';
import { inBatches } from './in-batches.ts';

const PROBE_WAIT_MS = 3000;

const Created = z.object({ conversation: z.object({ id: z.string() }), customerToken: z.string() });
const Frame = z.object({
  type: z.string(),
  event: z.looseObject({ type: z.string(), author: z.string().optional() }).optional(),
});

/**
 * One conversation before the load starts, to learn what the server under test can do: whether an AI
 * answers customers, and whether a customer's request for a person hands the conversation off. The
 * bench adapts (and says so in its report) instead of counting a missing feature as thousands of errors.
 */
export async function probeServer(
  url: string,
  handoffLine: string,
  agent: { email: string; password: string },
): Promise<{ aiReplies: boolean; handoffMode: HandoffMode; briefRoute: boolean; notes: string[] }> {
  const http = new HttpClient(4);
  const notes: string[] = [];
  try {
    const created = await http.send('POST', `${url}/v1/conversations`, { industry: 'other', customerName: 'Probe' });
    const parsed = Created.parse(created.body);
    const { id } = parsed.conversation;
    const seen: { type: string; author?: string | undefined }[] = [];
    const socket = new WebSocket(
      `${url.replace(/^http/, 'ws')}/v1/stream?customerToken=${encodeURIComponent(parsed.customerToken)}&conversationId=${id}`,
    );
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const waitFor = (match: (event: { type: string; author?: string | undefined }) => boolean) =>
      new Promise<boolean>((resolve) => {
        if (seen.some(match)) return resolve(true);
        const onMessage = () => {
          if (!seen.some(match)) return;
          clearTimeout(timer);
          socket.off('message', onMessage);
          resolve(true);
        };
        const timer = setTimeout(() => {
          socket.off('message', onMessage);
          resolve(false);
        }, PROBE_WAIT_MS);
        socket.on('message', onMessage);
      });
    socket.on('message', (data) => {
      const frame = Frame.safeParse(JSON.parse(data.toString()));
      if (frame.success && frame.data.event) seen.push(frame.data.event);
    });
    socket.send(JSON.stringify({ type: 'subscribe', conversationId: id, after: 0 }));
    const headers = { 'x-customer-token': parsed.customerToken };
    const hello = await http.send(
      'POST',
      `${url}/v1/conversations/${id}/messages`,
      { text: 'Hi, I need some help with my order.' },
      headers,
    );
    if (hello.status >= 300) throw new Error(`probe: customer message answered ${hello.status}`);
    const aiReplies = await waitFor((event) => event.type === 'message' && event.author === 'ai');
    if (!aiReplies) notes.push('no AI reply within 3 s: AI reply time not measured, customers do not wait for one');
    await http.send('POST', `${url}/v1/conversations/${id}/messages`, { text: handoffLine }, headers);
    const handedOff = await waitFor((event) => event.type === 'handoff.requested');
    socket.close();
    if (!handedOff) {
      notes.push(
        `"${handoffLine}" did not hand off within 3 s: handoffs are triggered with POST /v1/conversations/:id/handoff instead`,
      );
    }
    const token = await signIn(http, url, agent);
    await http.send('POST', `${url}/v1/auth/logout`, {}, { authorization: `Bearer ${token}` }).catch(() => undefined);
    const brief = await http.send('GET', `${url}/v1/conversations/${id}/brief`, undefined, {
      authorization: `Bearer ${token}`,
    });
    const briefRoute = brief.status !== 404;
    if (!briefRoute) {
      notes.push('GET /v1/conversations/:id/brief is missing: handoff latency is measured to the offer notice');
    }
    return { aiReplies, handoffMode: handedOff ? 'message' : 'route', briefRoute, notes };
  } finally {
    http.close();
  }
}

/** An agent's session token, as the console's sign-in gets it. */
async function signIn(http: HttpClient, url: string, agent: { email: string; password: string }): Promise<string> {
  const login = await http.send('POST', `${url}/v1/auth/login`, agent);
  return z.object({ token: z.string() }).parse(login.body).token;
}

const IDLE_OFFER_WAIT_MS = 5000;
/** Sign-ins in flight at once: the connections of the probe's client. */
const SIGN_IN_CONCURRENCY = 4;
const Offer = z.object({
  type: z.literal('desk'),
  name: z.literal('offer'),
  payload: z.looseObject({ conversationId: z.string(), state: z.string().optional(), brief: z.unknown().optional() }),
});

interface IdleConsole {
  socket: WebSocket;
  auth: { authorization: string };
}

/** Signs an agent in and opens their console (a socket subscribed to the desk), as the load's agents do. */
async function openConsole(
  http: HttpClient,
  url: string,
  agent: { email: string; password: string },
  onOffer: (conversationId: string, at: number, console: IdleConsole) => void,
): Promise<IdleConsole> {
  const token = await signIn(http, url, agent);
  const auth = { authorization: `Bearer ${token}` };
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, { headers: auth });
  const console: IdleConsole = { socket, auth };
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      const at = performance.now();
      const frame = JSON.parse(data.toString()) as { type?: string; name?: string };
      if (frame.type === 'desk' && frame.name === 'desk.subscribed') resolve();
      const offer = Offer.safeParse(frame).data;
      if (offer && offer.payload.state === 'open' && offer.payload.brief !== undefined) {
        onOffer(offer.payload.conversationId, at, console);
      }
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe_desk' })));
  });
  return console;
}

/**
 * The handoff path alone, measured in the same run as the loaded latency: handoffs one at a time on the
 * servers once the load has gone (warm, idle again), from the customer's request for a person (sent
 * after a first message, as under load) to the offer with its brief on the offered agent's console.
 * Every agent's console is open, on the first server; the customer writes to the last, so with two
 * processes the hop between them is in it. Each offer is accepted and resolved. (Measured before the
 * load instead, the cold servers' p50 came out above the loaded one: code not yet optimised.)
 */
export async function idleHandoffs(
  urls: readonly string[],
  handoffLine: string,
  agents: readonly { email: string; password: string }[],
  count: number,
): Promise<number[]> {
  const agentUrl = urls[0] as string;
  const customerUrl = urls[urls.length - 1] as string;
  const http = new HttpClient(SIGN_IN_CONCURRENCY);
  const latencies: number[] = [];
  const waiting = new Map<string, (offer: { at: number; console: IdleConsole }) => void>();
  const consoles: IdleConsole[] = [];
  try {
    // Side by side, as many as the client has connections: each sign-in waits on the server's password KDF.
    await inBatches(agents, SIGN_IN_CONCURRENCY, async (agent) => {
      consoles.push(
        await openConsole(http, agentUrl, agent, (conversationId, at, console) =>
          waiting.get(conversationId)?.({ at, console }),
        ),
      );
    });
    await clearDesk(http, agentUrl, consoles);
    for (let index = 0; index < count; index++) {
      const created = Created.parse(
        (await http.send('POST', `${customerUrl}/v1/conversations`, { industry: 'other', customerName: 'Idle' })).body,
      );
      const { id } = created.conversation;
      const headers = { 'x-customer-token': created.customerToken };
      const say = (text: string) =>
        http.send('POST', `${customerUrl}/v1/conversations/${id}/messages`, { text }, headers);
      await say('Hi, I need some help with my order.');
      // Let the AI answer the first message: the request for a person then meets an idle server.
      await sleep(100);
      const offered = new Promise<{ at: number; console: IdleConsole } | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), IDLE_OFFER_WAIT_MS);
        waiting.set(id, (offer) => {
          clearTimeout(timer);
          resolve(offer);
        });
      });
      const sent = performance.now();
      const asked = await say(handoffLine);
      if (asked.status >= 300) throw new Error(`idle handoff: the customer's message was answered ${asked.status}`);
      const offer = await offered;
      waiting.delete(id);
      if (!offer) throw new Error(`idle handoff: no offer with a brief within ${IDLE_OFFER_WAIT_MS} ms`);
      latencies.push(offer.at - sent);
      const { auth } = offer.console;
      const accepted = await http.send('POST', `${agentUrl}/v1/conversations/${id}/accept`, {}, auth);
      if (accepted.status >= 300) throw new Error(`idle handoff: accept answered ${accepted.status}`);
      const resolved = await http.send(
        'POST',
        `${agentUrl}/v1/conversations/${id}/resolve`,
        { summary: 'Idle probe.' },
        auth,
      );
      if (resolved.status >= 300) throw new Error(`idle handoff: resolve answered ${resolved.status}`);
    }
    return latencies;
  } finally {
    for (const { socket, auth } of consoles) {
      socket.close();
      await http.send('POST', `${agentUrl}/v1/auth/logout`, {}, auth).catch(() => undefined);
    }
    http.close();
  }
}

const Inbox = z.object({
  offers: z.array(z.object({ conversationId: z.string() })),
  owned: z.array(z.object({ conversationId: z.string() })),
});
/** Rounds of `clearDesk`: a wait left over is offered only once a slot frees, so it may take a few. */
const CLEAR_DESK_ROUNDS = 10;

/**
 * What the load left on the desk, finished: each agent accepts and resolves its open offers and resolves
 * what it owns, until every inbox is empty. The load's agents stop mid-work (a saturation hands many
 * conversations to them, and the run ends before they wrap up): with every slot taken (50 agents × 5),
 * no idle handoff could be offered, and a wait left over would go before each one.
 */
async function clearDesk(http: HttpClient, url: string, consoles: readonly IdleConsole[]): Promise<void> {
  for (let round = 0; round < CLEAR_DESK_ROUNDS; round++) {
    let cleared = 0;
    for (const { auth } of consoles) {
      const inbox = Inbox.parse((await http.send('GET', `${url}/v1/desk/inbox`, undefined, auth)).body);
      for (const { conversationId } of inbox.offers) {
        await http.send('POST', `${url}/v1/conversations/${conversationId}/accept`, {}, auth);
      }
      for (const conversationId of [...inbox.offers, ...inbox.owned].map((entry) => entry.conversationId)) {
        const resolved = await http.send(
          'POST',
          `${url}/v1/conversations/${conversationId}/resolve`,
          { summary: 'Left over from the load.' },
          auth,
        );
        if (resolved.status < 300) cleared += 1;
      }
    }
    if (cleared === 0) return;
    // The passes that offer what was still waiting run as slots free: give them a moment.
    await sleep(200);
  }
}

const LoggedEvents = z.object({
  events: z.array(z.looseObject({ seq: z.number(), type: z.string(), at: z.string(), author: z.string().optional() })),
});

/**
 * The anatomy of the given handoffs (see `handoffAnatomy`), in their order, from their conversations' logs,
 * read as an agent through the public API once the load has gone (4 at a time). A log that cannot be read or
 * does not show the handoff is left out.
 */
export async function anatomiseHandoffs(
  url: string,
  agent: { email: string; password: string },
  handoffs: readonly HandoffSample[],
  briefRoute: boolean,
  pauses?: Pick<PausesReport, 'stalls' | 'gcTimeline'>,
  clientPauses?: Pick<PausesReport, 'stalls' | 'gcTimeline'>,
): Promise<HandoffAnatomy[]> {
  if (handoffs.length === 0) return [];
  const http = new HttpClient(4);
  try {
    const auth = { authorization: `Bearer ${await signIn(http, url, agent)}` };
    const anatomies = new Map<HandoffSample, HandoffAnatomy>();
    await inBatches(handoffs, 4, async (sample) => {
      const read = await http.send('GET', `${url}/v1/conversations/${sample.conversationId}/events`, undefined, auth);
      const log = LoggedEvents.safeParse(read.body);
      const anatomy = log.success
        ? handoffAnatomy(sample, briefRoute, log.data.events, pauses, clientPauses)
        : undefined;
      if (anatomy) anatomies.set(sample, anatomy);
    });
    await http.send('POST', `${url}/v1/auth/logout`, {}, auth).catch(() => undefined);
    return handoffs.flatMap((sample) => anatomies.get(sample) ?? []);
  } finally {
    http.close();
  }
}
