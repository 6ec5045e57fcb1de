import type { Brief, StoredEvent } from '@baton/core';
import type { AgentRuntime } from '../../src/agent/agent-runtime.ts';

/**
 * Drives a conversation through the HTTP API the way the widget and the console do: the customer
 * writes with their token, staff read the whole record with a session token.
 */
export class ChatClient {
  constructor(
    readonly baseUrl: string,
    readonly conversationId: string,
    readonly customerToken: string,
    readonly staffToken: string,
    readonly runtime: AgentRuntime,
  ) {}

  static async start(options: {
    baseUrl: string;
    staffToken: string;
    runtime: AgentRuntime;
    industry: string;
    customerName?: string;
  }): Promise<ChatClient> {
    const response = await fetch(`${options.baseUrl}/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        industry: options.industry,
        ...(options.customerName ? { customerName: options.customerName } : {}),
      }),
    });
    if (response.status !== 201 && response.status !== 200) {
      throw new Error(`create conversation: ${response.status} ${await response.text()}`);
    }
    const body = (await response.json()) as { conversation: { id: string }; customerToken: string };
    return new ChatClient(
      options.baseUrl,
      body.conversation.id,
      body.customerToken,
      options.staffToken,
      options.runtime,
    );
  }

  /** The customer writes; resolves once the AI's turn is over, with the events it produced. */
  async say(text: string): Promise<StoredEvent[]> {
    const response = await fetch(`${this.baseUrl}/v1/conversations/${this.conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-customer-token': this.customerToken },
      body: JSON.stringify({ text }),
    });
    if (response.status !== 201) throw new Error(`post message: ${response.status} ${await response.text()}`);
    const { event } = (await response.json()) as { event: StoredEvent };
    // The runtime hears of the message after the write returns; wait until it produced something, then settled.
    for (;;) {
      await this.runtime.idle(this.conversationId);
      const after = await this.events(event.seq);
      if (after.some((item) => item.type !== 'message' || item.author !== 'customer')) {
        await this.runtime.idle(this.conversationId);
        return this.events(event.seq);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async events(after = 0): Promise<StoredEvent[]> {
    const response = await fetch(`${this.baseUrl}/v1/conversations/${this.conversationId}/events?after=${after}`, {
      headers: { authorization: `Bearer ${this.staffToken}` },
    });
    if (!response.ok) throw new Error(`read events: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { events: StoredEvent[] }).events;
  }

  /** The brief as the agent console gets it. */
  async brief(): Promise<Brief> {
    const response = await fetch(`${this.baseUrl}/v1/conversations/${this.conversationId}/brief`, {
      headers: { authorization: `Bearer ${this.staffToken}` },
    });
    if (!response.ok) throw new Error(`read brief: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { brief: Brief }).brief;
  }

  /** The AI's reply in a turn's events. */
  static reply(events: readonly StoredEvent[]): string {
    return events.flatMap((event) => (event.type === 'message' && event.author === 'ai' ? [event.text] : [])).join(' ');
  }
}
