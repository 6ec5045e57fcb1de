import { z } from 'zod';
import { type CallDeadline, callDeadline } from './call-deadline.ts';
import { type Connector, type ConnectorCallOptions, type ConnectorResult, failed, succeeded } from './connector.ts';

const HttpOperation = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  /** Appended to baseUrl; `{field}` is replaced by the URL-encoded input field of that name. */
  path: z.string().min(1),
  timeoutMs: z.number().int().positive().optional(),
});

/**
 * How a team points the tools at its own back office (BATON_CONNECTOR_CONFIG, a JSON file). Each
 * operation is a tool name; GET and DELETE send the remaining input as query parameters, the other
 * methods as a JSON body.
 */
export const HttpConnectorConfig = z.object({
  name: z.string().min(1).max(80).default('backoffice'),
  baseUrl: z.url(),
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().positive().default(5000),
  operations: z.record(z.string(), HttpOperation),
});
export type HttpConnectorConfig = z.input<typeof HttpConnectorConfig>;

/** A team's answer may state a business outcome itself, e.g. `{"outcome":"blocked","error":{"code":"LIMIT"}}`. */
const OutcomeBody = z.object({
  outcome: z.enum(['succeeded', 'failed', 'blocked']),
  data: z.record(z.string(), z.unknown()).optional(),
  error: z
    .object({ code: z.string().min(1), message: z.string().optional(), system: z.string().optional() })
    .optional(),
});
const ErrorBody = z.object({
  error: z.union([
    z.object({ code: z.string().min(1), message: z.string().optional() }),
    z
      .string()
      .min(1)
      .transform((code) => ({ code, message: undefined })),
  ]),
});

/**
 * Calls a team's own back office over HTTP. Timeouts, refused connections and HTTP errors become
 * failed outcomes with a code the brief can show (`TIMEOUT`, `UNREACHABLE`, `HTTP_503`, or the code the
 * team's API put in its error body); a 403 is `blocked`, the system forbidding the AI.
 */
export class HttpConnector implements Connector {
  readonly name: string;
  readonly operations: readonly string[];
  readonly #config: z.output<typeof HttpConnectorConfig>;
  readonly #fetch: typeof fetch;

  constructor(config: HttpConnectorConfig, options: { fetch?: typeof fetch } = {}) {
    this.#config = HttpConnectorConfig.parse(config);
    this.name = this.#config.name;
    this.operations = Object.keys(this.#config.operations);
    this.#fetch = options.fetch ?? fetch;
  }

  async invoke(
    operation: string,
    input: Record<string, unknown>,
    options: ConnectorCallOptions,
  ): Promise<ConnectorResult> {
    const endpoint = this.#config.operations[operation];
    if (!endpoint) return failed(this.name, 'UNKNOWN_OPERATION', `No endpoint configured for "${operation}".`);
    const timeoutMs = endpoint.timeoutMs ?? this.#config.timeoutMs;
    // Released once the answer is read, whatever it was (see callDeadline).
    const deadline = callDeadline(options.signal, timeoutMs);
    try {
      return await this.#request(endpoint, input, options, deadline, timeoutMs);
    } finally {
      deadline.release();
    }
  }

  async #request(
    endpoint: z.output<typeof HttpOperation>,
    input: Record<string, unknown>,
    options: ConnectorCallOptions,
    deadline: CallDeadline,
    timeoutMs: number,
  ): Promise<ConnectorResult> {
    const { signal } = deadline;

    const rest: Record<string, unknown> = { ...input };
    const path = endpoint.path.replace(/\{(\w+)\}/g, (_match, key: string) => {
      const value = rest[key];
      delete rest[key];
      return encodeURIComponent(value === undefined || value === null ? '' : String(value));
    });
    const url = new URL(this.#config.baseUrl.replace(/\/$/, '') + path);
    const hasBody = endpoint.method !== 'GET' && endpoint.method !== 'DELETE';
    if (!hasBody) {
      for (const [key, value] of Object.entries(rest)) {
        if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
      }
    }

    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: endpoint.method,
        headers: {
          accept: 'application/json',
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
          ...(options.conversationId ? { 'x-baton-conversation': options.conversationId } : {}),
          ...this.#config.headers,
        },
        ...(hasBody ? { body: JSON.stringify(rest) } : {}),
        signal,
      });
    } catch (error) {
      if (options.signal.aborted) throw error;
      if (deadline.timedOut) {
        return failed(
          this.name,
          'TIMEOUT',
          `${endpoint.method} ${url.pathname} did not answer within ${timeoutMs} ms.`,
        );
      }
      return failed(this.name, 'UNREACHABLE', `${endpoint.method} ${url.pathname}: ${describeNetworkError(error)}`);
    }

    let body: unknown;
    try {
      const text = await response.text();
      body = text === '' ? {} : JSON.parse(text);
    } catch (error) {
      if (options.signal.aborted) throw error;
      if (deadline.timedOut) {
        return failed(
          this.name,
          'TIMEOUT',
          `${endpoint.method} ${url.pathname} did not answer within ${timeoutMs} ms.`,
        );
      }
      if (response.ok)
        return failed(this.name, 'INVALID_RESPONSE', 'The back office answered with something that is not JSON.');
      body = {};
    }

    if (response.ok) {
      const stated = OutcomeBody.safeParse(body);
      if (stated.success) {
        const { outcome, data, error } = stated.data;
        if (outcome === 'succeeded') return succeeded(data ?? {});
        return failed(error?.system ?? this.name, error?.code ?? 'FAILED', error?.message ?? '', outcome, data);
      }
      if (body && typeof body === 'object' && !Array.isArray(body)) return succeeded(body as Record<string, unknown>);
      return succeeded({ value: body });
    }

    const parsedError = ErrorBody.safeParse(body);
    const code = parsedError.success ? parsedError.data.error.code : `HTTP_${response.status}`;
    const message =
      (parsedError.success ? parsedError.data.error.message : undefined) ??
      `${endpoint.method} ${url.pathname} answered ${response.status} ${response.statusText}`.trim();
    return failed(this.name, code, message, response.status === 403 ? 'blocked' : 'failed');
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string') return cause.code;
    return error.message;
  }
  return String(error);
}
