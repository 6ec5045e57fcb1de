import {
  type ConversationState,
  type EventBody,
  extractFacts,
  factsOnFile,
  reduceAll,
  type StoredEvent,
} from '@baton/core';
import type { AgentFact, AgentStep, AiAgent, HandoffRequest } from '../../src/agent/ai-agent.ts';
import { backOfficeTools } from '../../src/agent/back-office-tools.ts';
import { ToolRegistry } from '../../src/agent/tools.ts';
import { DemoBackOffice } from '../../src/connectors/demo-back-office.ts';

/**
 * An in-process conversation for agent tests: the real core reducer and fact extraction, the real demo
 * back office, one agent answering each customer message. No server, so the agent's own rules are visible.
 */
export class AgentHarness {
  readonly events: StoredEvent[] = [];
  readonly handoffs: HandoffRequest[] = [];
  readonly deltas: string[] = [];
  readonly tools: ToolRegistry;

  constructor(
    readonly agent: AiAgent,
    readonly industry: string,
    tools?: ToolRegistry,
  ) {
    this.tools = tools ?? new ToolRegistry(backOfficeTools, new DemoBackOffice());
  }

  append(body: EventBody): void {
    this.events.push({ ...body, conversationId: 'c_h', seq: this.events.length + 1, at: new Date().toISOString() });
  }

  get state(): ConversationState {
    return reduceAll(this.events);
  }

  facts(): AgentFact[] {
    return [...factsOnFile(this.events), ...extractFacts(this.events)];
  }

  /** The customer writes; returns the AI's last reply of the turn (empty when it did not speak). */
  async say(text: string): Promise<string> {
    this.append({ type: 'message', author: 'customer', text });
    return this.turn('customer_message');
  }

  async turn(cause: 'customer_message' | 'handoff_returned'): Promise<string> {
    const steps: AgentStep[] = [];
    const input = {
      conversation: { id: 'c_h', industry: this.industry },
      events: [...this.events],
      state: this.state,
      facts: this.facts(),
      cause,
      tools: this.tools,
    };
    for await (const step of this.agent.respond(input, new AbortController().signal)) steps.push(step);
    let reply = '';
    for (const step of steps) {
      if (step.type === 'events') {
        for (const event of step.events) {
          this.append(event);
          if (event.type === 'message') reply = event.text;
        }
      } else if (step.type === 'handoff') this.handoffs.push(step.request);
      else this.deltas.push(step.delta);
    }
    return reply;
  }

  actions(): string[] {
    return this.events.flatMap((event) => (event.type === 'action' ? [`${event.name}:${event.outcome}`] : []));
  }
}
