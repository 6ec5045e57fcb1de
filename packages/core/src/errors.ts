/**
 * Domain errors carry a stable `code` and are mapped to an HTTP status once, at the server's edge.
 * Clients see the code and the message, never a stack.
 */
export type BatonErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'not_owner'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export class BatonError extends Error {
  readonly code: BatonErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly isRetryable: boolean;

  constructor(
    code: BatonErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown; isRetryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatonError';
    this.code = code;
    this.details = options.details;
    this.isRetryable = options.isRetryable ?? false;
  }

  static is(value: unknown): value is BatonError {
    return value instanceof BatonError;
  }
}
