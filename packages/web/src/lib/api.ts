import { BatonError, type BatonErrorCode, StoredEvent } from '@baton/core';
import { z } from 'zod';

const KNOWN_CODES: readonly BatonErrorCode[] = [
  'invalid_input',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'not_owner',
  'payload_too_large',
  'rate_limited',
  'unavailable',
  'internal',
];

const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

function toCode(code: string): BatonErrorCode {
  return (KNOWN_CODES as readonly string[]).includes(code) ? (code as BatonErrorCode) : 'internal';
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Agent session token (Authorization: Bearer) or a customer's per-conversation token. */
  agentToken?: string | null;
  customerToken?: string | null;
  signal?: AbortSignal;
}

/**
 * Fetches a JSON route of the Baton API and parses the answer with `schema`. Every failure becomes a
 * BatonError with the server's stable code, so screens branch on `code`, never on status numbers.
 */
export async function request<T>(path: string, schema: z.ZodType<T>, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.agentToken) headers.authorization = `Bearer ${options.agentToken}`;
  if (options.customerToken) headers['x-customer-token'] = options.customerToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      credentials: 'same-origin',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (cause) {
    throw new BatonError('unavailable', 'Cannot reach the Baton server. Check your connection.', {
      cause,
      isRetryable: true,
    });
  }
  const text = await response.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const parsed = ErrorBody.safeParse(json);
    if (parsed.success) {
      const { code, message, details } = parsed.data.error;
      throw new BatonError(toCode(code), message, {
        ...(details ? { details } : {}),
        isRetryable: response.status >= 500 || response.status === 429,
      });
    }
    throw new BatonError(response.status >= 500 ? 'unavailable' : 'internal', `Server answered ${response.status}`, {
      isRetryable: response.status >= 500,
    });
  }
  if (response.status === 204) return schema.parse(undefined);
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new BatonError('internal', `Unexpected answer from ${path}: ${parsed.error.issues[0]?.message ?? ''}`);
  }
  return parsed.data;
}

export const Agent = z.looseObject({
  id: z.string(),
  name: z.string(),
  email: z.string().optional(),
  role: z.string().optional(),
  skills: z.array(z.string()).optional(),
});
export type Agent = z.infer<typeof Agent>;

export const ConversationSummary = z.looseObject({
  id: z.string(),
  status: z.string().optional(),
  industry: z.string().nullish(),
  customerName: z.string().nullish(),
  lastSeq: z.number().optional(),
  updatedAt: z.string().nullish(),
  createdAt: z.string().nullish(),
  queue: z.string().nullish(),
  ownerKind: z.string().nullish(),
  ownerId: z.string().nullish(),
  preview: z.string().nullish(),
  lastMessage: z.string().nullish(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

export const StoredEventList = z.object({ events: z.array(StoredEvent), lastSeq: z.number().optional() });
export const LoginAnswer = z.object({ token: z.string(), agent: Agent });
export const CreatedConversation = z.object({
  conversation: z.looseObject({ id: z.string() }),
  customerToken: z.string(),
});
export const EventAnswer = z.looseObject({ event: StoredEvent.optional() });
export const Nothing = z.unknown();

/** Turns any thrown value into a sentence for a banner. */
export function describeError(error: unknown): string {
  if (BatonError.is(error)) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
