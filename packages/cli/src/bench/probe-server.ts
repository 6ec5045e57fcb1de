import { WebSocket } from 'ws';
import { z } from 'zod';
import type { HandoffMode } from './bench-protocol.ts';
import { HttpClient } from './http-client.ts';

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
    const login = await http.send('POST', `${url}/v1/auth/login`, agent);
    const token = z.object({ token: z.string() }).parse(login.body).token;
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
