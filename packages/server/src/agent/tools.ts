import type { ActionEvent, EventBody, IdentityEvent, SystemError } from '@baton/core';
import { z } from 'zod';
import { callDeadline } from '../connectors/call-deadline.ts';
import type { Connector, ConnectorResult } from '../connectors/connector.ts';

export interface ToolContext {
  conversationId: string;
  signal: AbortSignal;
  connector: Connector;
}

/**
 * One thing the AI can do in a back-office system. Definitions are data plus an optional `run`; by
 * default a tool invokes the connector operation of the same name, so the same tool reaches the demo
 * back office or a team's HTTP API unchanged.
 */
export interface ToolDefinition<Input extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  description: string;
  input: z.ZodType<Input>;
  /** Input fields never written to the record (one-time codes, passwords); masked in the action event. */
  secretFields?: readonly string[];
  /** Set when the tool is an identity check: its outcome also becomes an `identity` event. */
  identity?: { method: string; pendingOnSuccess?: boolean; subject?: (input: Input) => string | undefined };
  run?: (input: Input, context: ToolContext) => Promise<ConnectorResult>;
}

/** What one call produced: the outcome for the caller and the events for the record. */
export interface ToolCallResult {
  name: string;
  outcome: 'succeeded' | 'failed' | 'blocked';
  result?: Record<string, unknown>;
  error?: SystemError;
  /** The `action` event first, then the `identity` event of an identity check. */
  events: EventBody[];
}

const MASK = '••••••';
/** Keys masked whatever the tool declares: a model may invent its own argument names. */
const ALWAYS_SECRET = /^(code|otp|one_time_code|pin|password|new_password|passcode|security_answer|card_number|cvv)$/i;

export function maskSecrets(
  input: Record<string, unknown>,
  secretFields: readonly string[] = [],
): Record<string, unknown> {
  const masked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    masked[key] = secretFields.includes(key) || ALWAYS_SECRET.test(key) ? MASK : value;
  }
  return masked;
}

export interface ToolRegistryOptions {
  /** Each call is aborted after this long and recorded as a failed action with code TIMEOUT. */
  timeoutMs?: number;
}

/**
 * The tools offered to an agent, bound to one connector. `call` never throws for a bad call: unknown
 * tools, invalid arguments, timeouts and connector crashes all come back as a failed action, so a model
 * can read the error and try again and the record shows what happened.
 */
export class ToolRegistry {
  readonly connector: Connector;
  readonly #tools = new Map<string, ToolDefinition>();
  readonly #timeoutMs: number;

  constructor(tools: readonly ToolDefinition[], connector: Connector, options: ToolRegistryOptions = {}) {
    this.connector = connector;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    for (const tool of tools) {
      if (tool.run || connector.operations.includes(tool.name)) this.#tools.set(tool.name, tool);
    }
  }

  list(): ToolDefinition[] {
    return [...this.#tools.values()];
  }

  get(name: string): ToolDefinition | undefined {
    return this.#tools.get(name);
  }

  /** JSON Schema of a tool's input, as offered to a model. */
  jsonSchema(name: string): Record<string, unknown> {
    const tool = this.#tools.get(name);
    if (!tool) throw new Error(`unknown tool ${name}`);
    return z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
  }

  async call(
    name: string,
    rawInput: unknown,
    context: { conversationId: string; signal: AbortSignal },
  ): Promise<ToolCallResult> {
    const recordedInput = maskSecrets(
      isRecord(rawInput) ? rawInput : { value: rawInput },
      this.#tools.get(name)?.secretFields,
    );
    const tool = this.#tools.get(name);
    if (!tool) {
      return finish(name, recordedInput, {
        outcome: 'failed',
        error: { system: 'baton', code: 'UNKNOWN_TOOL', message: `There is no tool named "${name}".` },
      });
    }
    const parsed = tool.input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      return finish(name, recordedInput, {
        outcome: 'failed',
        error: { system: 'baton', code: 'INVALID_INPUT', message: z.prettifyError(parsed.error).slice(0, 2000) },
      });
    }
    const input = parsed.data;
    const deadline = callDeadline(context.signal, this.#timeoutMs);
    const { signal } = deadline;
    let answer: ConnectorResult;
    try {
      answer = tool.run
        ? await tool.run(input, { conversationId: context.conversationId, signal, connector: this.connector })
        : await this.connector.invoke(name, input, { signal, conversationId: context.conversationId });
    } catch (error) {
      if (context.signal.aborted) throw error;
      const code = deadline.timedOut ? 'TIMEOUT' : 'CONNECTOR_ERROR';
      const message = deadline.timedOut
        ? `${this.connector.name} did not answer within ${this.#timeoutMs} ms.`
        : error instanceof Error
          ? error.message
          : String(error);
      answer = { outcome: 'failed', error: { system: this.connector.name, code, message: message.slice(0, 2000) } };
    } finally {
      deadline.release();
    }

    const done = finish(name, maskSecrets(input, tool.secretFields), answer);
    if (tool.identity) {
      const subject = tool.identity.subject?.(input);
      const identity: IdentityEvent = {
        type: 'identity',
        method: tool.identity.method,
        result: answer.outcome === 'succeeded' ? (tool.identity.pendingOnSuccess ? 'pending' : 'verified') : 'failed',
        ...(subject ? { subject } : {}),
      };
      done.events.push(identity);
    }
    return done;
  }
}

function finish(name: string, input: Record<string, unknown>, answer: ConnectorResult): ToolCallResult {
  const result = answer.outcome === 'succeeded' ? answer.data : answer.data;
  const error = answer.outcome === 'succeeded' ? undefined : answer.error;
  const action: ActionEvent = {
    type: 'action',
    name,
    actor: 'ai',
    input,
    outcome: answer.outcome,
    ...(result ? { result } : {}),
    ...(error ? { error } : {}),
  };
  return {
    name,
    outcome: answer.outcome,
    ...(result ? { result } : {}),
    ...(error ? { error } : {}),
    events: [action],
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
