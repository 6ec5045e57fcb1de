import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { EventBody, StoredEvent, SystemError } from '@baton/core';
import {
  APICallError,
  jsonSchema,
  type LanguageModel,
  type ModelMessage,
  RetryError,
  stepCountIs,
  streamText,
  type ToolSet,
  tool,
} from 'ai';
import { z } from 'zod';
import type { AgentInput, AgentStep, AiAgent, HandoffRequest } from './ai-agent.ts';
import { maskSecrets } from './tools.ts';

export interface LlmAgentOptions {
  /** Any AI SDK language model; or give `baseUrl` + `model` (+ `apiKey`) for an OpenAI-compatible server. */
  languageModel?: LanguageModel;
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  /**
   * How long the model may stay silent (no answer, no streamed chunk) before the turn hands off. Time
   * spent in tools does not count; the runtime bounds the whole turn separately.
   */
  timeoutMs?: number;
  /** Model calls (with tool calls in between) per turn. */
  maxSteps?: number;
  /** Retries of a failed model call (429, 5xx) before handing off. */
  maxRetries?: number;
  /** Business the assistant speaks for, in the system prompt. */
  businessName?: string;
}

const HANDOFF_TOOL = 'request_handoff';
const HandoffInput = z.object({
  reason: z.string().min(1).max(300),
  trigger: z
    .enum(['customer_request', 'frustration', 'policy', 'not_understood', 'repeated_failure'])
    .default('policy'),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal'),
  skills: z.array(z.string().min(1).max(40)).max(5).default([]),
});

const APOLOGY =
  "I'm sorry, I'm having trouble on my side right now. I'm bringing in a colleague, who will see everything you've told me so you won't have to repeat it.";

/**
 * An agent backed by any model served over the OpenAI-compatible chat-completions format (OpenAI,
 * Azure OpenAI, Ollama, vLLM, llama.cpp…). It offers the same tools as the playbook agent; the tool
 * registry validates arguments, so a bad call goes back to the model as an error it can correct. A
 * timeout, rate limit or outage is recorded as a failed `generate_reply` action and ends in a handoff.
 */
export class LlmAgent implements AiAgent {
  readonly name = 'llm';
  readonly #model: LanguageModel;
  readonly #modelId: string;
  readonly #timeoutMs: number;
  readonly #maxSteps: number;
  readonly #maxRetries: number;
  readonly #businessName: string;

  constructor(options: LlmAgentOptions) {
    if (options.languageModel) {
      this.#model = options.languageModel;
      this.#modelId = typeof options.languageModel === 'string' ? options.languageModel : options.languageModel.modelId;
    } else {
      if (!options.baseUrl || !options.model) throw new Error('LlmAgent needs a languageModel, or baseUrl and model');
      const provider = createOpenAICompatible({
        name: 'baton-llm',
        baseURL: options.baseUrl,
        includeUsage: true,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      });
      this.#model = provider.chatModel(options.model);
      this.#modelId = options.model;
    }
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxSteps = options.maxSteps ?? 6;
    this.#maxRetries = options.maxRetries ?? 1;
    this.#businessName = options.businessName ?? 'our organisation';
  }

  async *respond(input: AgentInput, signal: AbortSignal): AsyncIterable<AgentStep> {
    const pending: EventBody[] = [];
    let handoff: HandoffRequest | undefined;
    const silence = new SilenceTimer(this.#timeoutMs);
    const context = { conversationId: input.conversation.id, signal };

    const tools: ToolSet = {};
    // While the customer waits for a human, the model only keeps them company: no actions, no handoff.
    const offered = input.cause === 'customer_waiting' ? [] : input.tools.list();
    for (const definition of offered) {
      tools[definition.name] = tool({
        description: definition.description,
        // No validator here: the registry validates, so a bad call is recorded and answered the same way
        // whichever agent made it.
        inputSchema: jsonSchema(input.tools.jsonSchema(definition.name)),
        execute: async (args: unknown) => {
          silence.pause();
          const call = await input.tools.call(definition.name, args, context).finally(() => silence.restart());
          pending.push(...call.events);
          return {
            outcome: call.outcome,
            ...(call.result ? { result: call.result } : {}),
            ...(call.error ? { error: call.error } : {}),
          };
        },
      });
    }
    if (input.cause !== 'customer_waiting')
      tools[HANDOFF_TOOL] = tool({
        description:
          'Hand the conversation to a human colleague. Use it when the customer asks for a person, for any medical or clinical question (skills ["clinical"], priority "high"), when a rule blocks you, or when you cannot help. Then tell the customer a colleague is taking over.',
        inputSchema: jsonSchema(z.toJSONSchema(HandoffInput, { io: 'input' }) as Parameters<typeof jsonSchema>[0]),
        execute: async (args: unknown) => {
          const parsed = HandoffInput.safeParse(args);
          if (!parsed.success) return { outcome: 'failed', error: z.prettifyError(parsed.error) };
          handoff = parsed.data;
          return { outcome: 'succeeded', note: 'A colleague will take over. Tell the customer, briefly.' };
        },
      });

    const timeout = silence.signal;
    const abortSignal = AbortSignal.any([signal, timeout]);
    let failure: unknown;
    let stepText = '';
    let spoke = false;
    try {
      const result = streamText({
        model: this.#model,
        system: systemPrompt(input, this.#businessName),
        messages: toModelMessages(input.events),
        tools,
        stopWhen: stepCountIs(this.#maxSteps),
        maxRetries: this.#maxRetries,
        abortSignal,
        // Errors arrive as `error` parts of the stream and are handled below; the default would log them.
        onError: () => {},
      });
      for await (const part of result.fullStream) {
        silence.restart();
        if (part.type === 'text-delta') {
          stepText += part.text;
          yield { type: 'text-delta', delta: part.text };
        } else if (part.type === 'tool-error' && !pending.length) {
          // The SDK refused the call before our registry saw it (unknown tool, unparsable JSON): record it too.
          const call = await input.tools.call(part.toolName, part.input, context);
          if (part.toolName !== HANDOFF_TOOL) pending.push(...call.events);
        } else if (part.type === 'finish-step') {
          const text = stepText.trim();
          stepText = '';
          if (text !== '') {
            pending.push({ type: 'message', author: 'ai', text: text.slice(0, 8000) });
            spoke = true;
          }
        } else if (part.type === 'error') {
          failure = part.error;
          break;
        } else if (part.type === 'abort') {
          failure = timeout.reason ?? new Error('aborted');
          break;
        }
        if (pending.length > 0) yield { type: 'events', events: pending.splice(0) };
      }
    } catch (error) {
      failure = error;
    } finally {
      silence.pause();
    }
    if (signal.aborted) return;
    if (pending.length > 0) yield { type: 'events', events: pending.splice(0) };

    if (failure === undefined && !spoke && !handoff) {
      failure = new Error('the model answered with no text and no tool call');
    }
    if (failure !== undefined) {
      const error = describeLlmError(failure, timeout.aborted, this.#timeoutMs);
      yield {
        type: 'events',
        events: [
          {
            type: 'action',
            name: 'generate_reply',
            actor: 'ai',
            input: { model: this.#modelId },
            outcome: 'failed',
            error,
          },
          { type: 'message', author: 'ai', text: APOLOGY },
        ],
      };
      yield {
        type: 'handoff',
        request: { trigger: 'error', reason: `AI unavailable: ${error.code}`, priority: 'normal', skills: [] },
      };
      return;
    }
    if (handoff) yield { type: 'handoff', request: handoff };
  }
}

/** Aborts when nothing happened for `ms` while running; paused while a tool works. */
class SilenceTimer {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
    this.restart();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  restart(): void {
    clearTimeout(this.#timer);
    if (this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => this.#controller.abort(new Error(`no answer within ${this.#ms} ms`)), this.#ms);
  }

  pause(): void {
    clearTimeout(this.#timer);
  }
}

/** Maps what the AI SDK threw to the code a human sees in the brief. */
export function describeLlmError(error: unknown, timedOut: boolean, timeoutMs: number): SystemError {
  if (timedOut) return { system: 'llm', code: 'TIMEOUT', message: `The model did not answer within ${timeoutMs} ms.` };
  const last = RetryError.isInstance(error) ? error.lastError : error;
  if (APICallError.isInstance(last)) {
    const status = last.statusCode;
    const message = last.message.slice(0, 500);
    if (status === 429) return { system: 'llm', code: 'RATE_LIMITED', message };
    if (status !== undefined && status >= 500)
      return { system: 'llm', code: 'PROVIDER_UNAVAILABLE', message: `HTTP ${status}: ${message}` };
    if (status === 401 || status === 403) return { system: 'llm', code: 'UNAUTHORIZED', message };
    if (status !== undefined) return { system: 'llm', code: `HTTP_${status}`, message };
    return { system: 'llm', code: networkCode(last.cause) ?? 'UNREACHABLE', message };
  }
  const message = last instanceof Error ? last.message : String(last);
  return { system: 'llm', code: networkCode(last) ?? 'LLM_ERROR', message: message.slice(0, 500) };
}

function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND' || code === 'UND_ERR_SOCKET') {
      return 'UNREACHABLE';
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The conversation as chat messages: the customer is the user; the AI, bots and human agents are the assistant. */
export function toModelMessages(events: readonly StoredEvent[]): ModelMessage[] {
  const messages: ModelMessage[] = [];
  for (const event of events) {
    if (event.type !== 'message') continue;
    if (event.author === 'customer') messages.push({ role: 'user', content: event.text });
    else if (event.author === 'ai') messages.push({ role: 'assistant', content: event.text });
    else if (event.author === 'agent' || event.author === 'bot') {
      const who = event.authorName ?? (event.author === 'agent' ? 'a human colleague' : 'the bot');
      messages.push({ role: 'assistant', content: `[${who}] ${event.text}` });
    }
  }
  return messages;
}

/** State, facts, steps already taken and the brief: what the model must not make the customer repeat. */
export function systemPrompt(input: AgentInput, businessName: string): string {
  const verified = input.events.filter((event) => event.type === 'identity' && event.result === 'verified');
  const steps = input.events.flatMap((event) => {
    if (event.type !== 'action') return [];
    const error = event.error ? ` (${event.error.system} ${event.error.code}: ${event.error.message})` : '';
    const inputText = event.input ? ` ${JSON.stringify(maskSecrets(event.input))}` : '';
    const result = event.result ? ` -> ${JSON.stringify(event.result).slice(0, 400)}` : '';
    return [`- ${event.name}${inputText}: ${event.outcome}${error}${result} [by ${event.actor}]`];
  });
  const notes = input.events.flatMap((event) =>
    event.type === 'note' ? [`- ${event.authorName ?? 'agent'}: ${event.text}`] : [],
  );
  const returned = [...input.events].reverse().find((event) => event.type === 'handoff.returned');
  const lines = [
    `You are the virtual support assistant of ${businessName}. Serve the customer first: use the tools to look things up and act, then answer briefly and warmly.`,
    'Rules:',
    '- Never ask for anything listed under "Known facts"; use it.',
    '- Never repeat a step listed under "Steps already taken" unless the customer gives new information.',
    '- Never write one-time codes, passwords or full card numbers in a reply.',
    `- Never answer a medical or clinical question: call ${HANDOFF_TOOL} with skills ["clinical"] and priority "high".`,
    `- When the customer asks for a person, when a tool answers "blocked", or when you cannot help, call ${HANDOFF_TOOL} and say a colleague is taking over with everything you know.`,
    '- If a tool returns an error about its input, fix the arguments and call it again.',
    '',
    `Conversation ${input.conversation.id} (${input.conversation.industry}); identity ${
      verified.length > 0
        ? `verified (${verified.map((event) => (event.type === 'identity' ? event.method : '')).join(', ')})`
        : 'not verified'
    }.`,
    'Known facts:',
    ...(input.facts.length > 0 ? input.facts.map((fact) => `- ${fact.name}: ${fact.value}`) : ['- none yet']),
    'Steps already taken:',
    ...(steps.length > 0 ? steps : ['- none yet']),
  ];
  if (notes.length > 0) lines.push('Notes from human colleagues:', ...notes);
  if (returned && input.cause === 'handoff_returned') {
    lines.push(
      '',
      `A human colleague just handed the conversation back to you${returned.type === 'handoff.returned' && returned.note ? ` with this note: ${returned.note}` : ''}. Tell the customer what was done and ask if anything else is needed; do not ask again for anything known.`,
    );
  }
  if (input.cause === 'customer_waiting') {
    lines.push(
      '',
      'The customer is waiting in the queue for a human colleague. Keep them company briefly: say where they stand, and ask for at most one fact listed as unknown in the brief that nobody asked for yet. Do not act, promise or answer anything else.',
    );
  }
  if (input.brief !== undefined) lines.push('', 'Handoff brief:', JSON.stringify(input.brief).slice(0, 4000));
  return lines.join('\n');
}
