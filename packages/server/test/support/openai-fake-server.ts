import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * A scripted server that speaks the OpenAI chat-completions wire format (JSON and SSE streaming, tool
 * calls), for tests of anything that talks to a model: no hosted model is reachable in CI, and a
 * mock of our own code would not test the HTTP, the streaming parser or the retries. It replays
 * scripted replies in order and records every request so a test checks what was sent.
 */

export type ScriptedReply =
  | { text: string }
  | { toolCalls: { name: string; arguments: Record<string, unknown> | string; id?: string }[]; text?: string }
  /** An HTTP error, as a provider sends it (429 rate limit, 500/503 outage). */
  | { status: number; error?: { message: string; type?: string; code?: string }; headers?: Record<string, string> }
  /** Never answers: the client's timeout must fire. */
  | { hang: true }
  /** Accepts the connection, then drops it without an answer. */
  | { disconnect: true };

export type Script = ScriptedReply | ((request: ChatRequest) => ScriptedReply);

const ChatMessage = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.null(), z.array(z.unknown())]).optional(),
  tool_calls: z
    .array(z.looseObject({ id: z.string(), function: z.object({ name: z.string(), arguments: z.string() }) }))
    .optional(),
  tool_call_id: z.string().optional(),
});

export const ChatRequest = z.looseObject({
  model: z.string(),
  messages: z.array(ChatMessage),
  stream: z.boolean().optional(),
  tools: z
    .array(z.looseObject({ type: z.string(), function: z.looseObject({ name: z.string(), parameters: z.unknown() }) }))
    .optional(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: ChatRequest;
}

export class OpenAiFakeServer {
  readonly requests: RecordedRequest[] = [];
  readonly #script: Script[] = [];
  readonly #server: Server;
  #url = '';
  #chunkId = 0;

  constructor() {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: String(error), type: 'fake_server_error' } }));
      });
    });
  }

  /** Base URL to configure a client with, e.g. `http://127.0.0.1:4123/v1`. */
  get baseUrl(): string {
    return this.#url;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  /** Queues replies, answered one per request in order. */
  script(...replies: Script[]): this {
    this.#script.push(...replies);
    return this;
  }

  get remaining(): number {
    return this.#script.length;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      return json(response, 404, {
        error: { message: `no route ${request.method} ${request.url}`, type: 'not_found' },
      });
    }
    const parsed = ChatRequest.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (!parsed.success) {
      return json(response, 400, { error: { message: z.prettifyError(parsed.error), type: 'invalid_request_error' } });
    }
    const body = parsed.data;
    this.requests.push({ path: request.url, headers: request.headers, body });
    const next = this.#script.shift();
    if (!next) {
      return json(response, 500, {
        error: { message: 'the fake server has no scripted reply left', type: 'server_error' },
      });
    }
    const reply = typeof next === 'function' ? next(body) : next;
    if ('hang' in reply) return;
    if ('disconnect' in reply) {
      request.socket.destroy();
      return;
    }
    if ('status' in reply) {
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      response.end(JSON.stringify({ error: { type: 'api_error', ...(reply.error ?? { message: 'scripted error' }) } }));
      return;
    }
    const id = `chatcmpl-${++this.#chunkId}`;
    const created = Math.floor(Date.now() / 1000);
    const text = 'text' in reply ? (reply.text ?? '') : '';
    const toolCalls = ('toolCalls' in reply ? reply.toolCalls : []).map((call, index) => ({
      id: call.id ?? `call_${this.#chunkId}_${index}`,
      type: 'function' as const,
      function: {
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
    const finishReason = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

    if (!body.stream) {
      return json(response, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: text === '' ? null : text,
              ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            },
            finish_reason: finishReason,
          },
        ],
        usage,
      });
    }

    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (delta: Record<string, unknown>, finish: string | null = null) =>
      response.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    send({ role: 'assistant', content: '' });
    // Word by word, as a model streams, so a client's delta handling is exercised.
    for (const piece of text.match(/\S+\s*/g) ?? []) send({ content: piece });
    toolCalls.forEach((call, index) => {
      send({
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }],
      });
      const args = call.function.arguments;
      const middle = Math.ceil(args.length / 2);
      for (const part of [args.slice(0, middle), args.slice(middle)]) {
        if (part !== '') send({ tool_calls: [{ index, function: { arguments: part } }] });
      }
    });
    send({}, finishReason);
    response.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })}\n\n`,
    );
    response.end('data: [DONE]\n\n');
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
