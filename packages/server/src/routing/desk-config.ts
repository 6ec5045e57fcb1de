import { BatonError, DEFAULT_QUEUES, QueueConfig } from '@baton/core';
import { z } from 'zod';

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const milliseconds = (fallback: number) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce.number({ message: 'must be a number of milliseconds' }).int().nonnegative().default(fallback),
  );

const QueueList = z
  .array(QueueConfig)
  .min(1, 'at least one queue')
  .refine((queues) => new Set(queues.map((queue) => queue.id)).size === queues.length, 'queue ids must be unique');

const DeskEnv = z.object({
  BATON_OFFER_TTL_MS: milliseconds(30_000),
  /** How long a customer may wait with no agent accepting before it becomes a callback; 0 never. */
  BATON_CALLBACK_AFTER_MS: milliseconds(15 * 60_000),
  /** How often each process looks for expired offers, stale waits and free agents. */
  BATON_ROUTING_TICK_MS: milliseconds(1_000),
  /**
   * How long an online agent may have no console open (a reload, a dropped network) before they go
   * offline and their open offers move on; 0: presence does not follow the console.
   */
  BATON_CONSOLE_GRACE_MS: milliseconds(15_000),
  /** JSON array of queues (id, name, skills, languages, hours, averageHandleSeconds). */
  BATON_QUEUES: z.preprocess(emptyToUndefined, z.string().optional()),
});

export interface DeskConfig {
  offerTtlMs: number;
  callbackAfterMs: number;
  tickMs: number;
  /** See BATON_CONSOLE_GRACE_MS; 0 turns it off. */
  consoleGraceMs: number;
  /** How long other processes have to say they hold an agent's console. */
  consoleCheckMs: number;
  queues: QueueConfig[];
}

export const DeskConfigInput = z.object({
  offerTtlMs: z.number().int().positive().default(30_000),
  callbackAfterMs: z
    .number()
    .int()
    .nonnegative()
    .default(15 * 60_000),
  tickMs: z.number().int().positive().default(1_000),
  consoleGraceMs: z.number().int().nonnegative().default(15_000),
  consoleCheckMs: z.number().int().positive().default(1_000),
  queues: QueueList.default(() => DEFAULT_QUEUES.map((queue) => QueueConfig.parse(queue))),
});
export type DeskConfigInput = z.input<typeof DeskConfigInput>;

export function deskConfig(input: DeskConfigInput = {}): DeskConfig {
  return DeskConfigInput.parse(input);
}

/** Reads the desk settings from the environment; every problem is named at once, as for the server config. */
export function loadDeskConfig(env: Record<string, string | undefined> = process.env): DeskConfig {
  const parsed = DeskEnv.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  let queues: QueueConfig[] | undefined;
  if (parsed.success && parsed.data.BATON_QUEUES) {
    let raw: unknown;
    try {
      raw = JSON.parse(parsed.data.BATON_QUEUES);
    } catch {
      problems.push('BATON_QUEUES: must be a JSON array of queues');
    }
    const list = QueueList.safeParse(raw);
    if (list.success) queues = list.data;
    else if (raw !== undefined) {
      problems.push(...list.error.issues.map((issue) => `BATON_QUEUES.${issue.path.join('.')}: ${issue.message}`));
    }
  }
  if (!parsed.success || problems.length > 0) {
    throw new BatonError('invalid_input', `invalid configuration: ${problems.join('; ')}`, { details: { problems } });
  }
  return deskConfig({
    offerTtlMs: parsed.data.BATON_OFFER_TTL_MS || 30_000,
    callbackAfterMs: parsed.data.BATON_CALLBACK_AFTER_MS,
    tickMs: parsed.data.BATON_ROUTING_TICK_MS || 1_000,
    consoleGraceMs: parsed.data.BATON_CONSOLE_GRACE_MS,
    ...(queues ? { queues } : {}),
  });
}
