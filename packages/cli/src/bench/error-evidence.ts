import { z } from 'zod';
import type { HttpClient } from './http-client.ts';

/** What a simulated customer knows of its conversation, enough to read it back. */
export interface CustomerView {
  conversationId: string;
  /** The Baton server the customer talks to. */
  url: string;
  token: string;
  http: HttpClient;
  agentMessages: number;
  resolvedSeq: number | undefined;
}

const LogPage = z.object({
  events: z.array(z.object({ seq: z.number(), type: z.string(), at: z.string(), author: z.string().optional() })),
});

/** Events a sample shows at most: the sample must fit in an error's few hundred characters. */
const SHOWN = 12;

/**
 * An error's evidence, for a rare one that cannot be made again at will: what the customer saw (agent
 * messages, the resolve's seq) and the conversation's events from a little before `seq` (the message
 * the error is about), as the store has them, each with its time in ms after the first one shown:
 * `12:customer@0 13:agent@640 14:handoff.resolved@1210` (who waited for whom). Never throws.
 */
export async function conversationEvidence(
  customer: CustomerView,
  seq: number | undefined,
  seen?: string,
): Promise<string> {
  const head = [
    customer.conversationId,
    ...(seq !== undefined ? [`message ${seq}`] : []),
    ...(seen ? [`${seen}, now ${customer.agentMessages}`] : []),
    `resolved at ${customer.resolvedSeq ?? '-'}`,
  ].join(', ');
  try {
    const after = Math.max(0, (seq ?? 0) - 6);
    const response = await customer.http.send(
      'GET',
      `${customer.url}/v1/conversations/${customer.conversationId}/events?after=${after}`,
      undefined,
      { 'x-customer-token': customer.token },
    );
    const page = LogPage.safeParse(response.body);
    if (response.status !== 200 || !page.success) return `${head}; log not read (HTTP ${response.status})`;
    const events = page.data.events.slice(-SHOWN);
    const start = Date.parse(events[0]?.at ?? '');
    const shown = events.map((event) => {
      const kind = event.type === 'message' ? (event.author ?? 'message') : event.type;
      return `${event.seq}:${kind}@${Date.parse(event.at) - start}`;
    });
    return `${head}; log ${shown.join(' ')}`;
  } catch (error) {
    return `${head}; log not read: ${error instanceof Error ? error.message : String(error)}`;
  }
}
