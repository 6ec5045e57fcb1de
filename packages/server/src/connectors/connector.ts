import type { SystemError } from '@baton/core';

/**
 * What one back-office operation answered. `failed` means the system tried and could not (a wrong
 * code, a login error); `blocked` means a rule forbids the caller (a refund above the AI's limit).
 * Either way the error carries the system's own code so a human sees exactly what the AI saw.
 */
export type ConnectorResult =
  | { outcome: 'succeeded'; data: Record<string, unknown> }
  | { outcome: 'failed' | 'blocked'; error: SystemError; data?: Record<string, unknown> };

export interface ConnectorCallOptions {
  /** Aborts the call (timeout, shutdown). A connector must stop waiting when it fires. */
  signal: AbortSignal;
  conversationId?: string;
}

/**
 * A team's back-office systems as seen by the tools: named operations taking and returning JSON.
 * The contract: never throw for a business outcome (return `failed` / `blocked` with a code); throw
 * only for a bug or an abort, and the tool registry turns that into a failed action too.
 */
export interface Connector {
  readonly name: string;
  /** The operations this connector answers; the tool registry offers only tools whose operation is here. */
  readonly operations: readonly string[];
  invoke(operation: string, input: Record<string, unknown>, options: ConnectorCallOptions): Promise<ConnectorResult>;
}

export function succeeded(data: Record<string, unknown>): ConnectorResult {
  return { outcome: 'succeeded', data };
}

export function failed(
  system: string,
  code: string,
  message: string,
  outcome: 'failed' | 'blocked' = 'failed',
  data?: Record<string, unknown>,
): ConnectorResult {
  return { outcome, error: { system, code, message }, ...(data ? { data } : {}) };
}
