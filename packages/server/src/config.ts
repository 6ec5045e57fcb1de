import { resolve } from 'node:path';
import { BatonError } from '@baton/core';
import { z } from 'zod';
import { DEFAULT_POOL_SIZE } from './store/database.ts';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const EnvSchema = z.object({
  PORT: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 65535')
      .max(65535, 'must be between 0 and 65535')
      .default(3000),
  ),
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(postgres|postgresql):\/\/.+/, 'must be a postgres:// URL (leave it unset for the embedded SQLite file)')
      .optional(),
  ),
  BATON_DATABASE_SCHEMA: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
      .optional(),
  ),
  BATON_DATABASE_POOL_SIZE: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: 'must be a number of connections' })
      .int('must be a whole number of connections')
      .min(2, 'must be at least 2 (the desk holds one while it routes)')
      .max(500, 'must be at most 500')
      .default(DEFAULT_POOL_SIZE),
  ),
  BATON_DATABASE_PREPARED_STATEMENTS: z.preprocess(
    emptyToUndefined,
    z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  ),
  BATON_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  REDIS_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  LOG_LEVEL: z.preprocess(emptyToUndefined, LogLevel.default('info')),
  BATON_SESSION_TTL: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: 'must be a number of seconds' })
      .int('must be a whole number of seconds')
      .positive('must be positive')
      .default(12 * 60 * 60),
  ),
  BATON_LLM_BASE_URL: z.preprocess(emptyToUndefined, z.url('must be an http(s) URL').optional()),
  BATON_LLM_MODEL: optionalString,
  BATON_LLM_API_KEY: optionalString,
  BATON_WEB_DIR: optionalString,
  BATON_BODY_LIMIT: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: 'must be a number of bytes' })
      .int()
      .min(1024)
      .default(1024 * 1024),
  ),
});

export interface Config {
  port: number;
  host: string;
  /** PostgreSQL URL; absent means the embedded SQLite file `sqliteFile`. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema to work in (created when missing), e.g. to isolate a test run or a tenant. */
  databaseSchema: string | undefined;
  /** PostgreSQL connections per server process. */
  databasePoolSize: number;
  /** PostgreSQL: named prepared statements (BATON_DATABASE_PREPARED_STATEMENTS). */
  databasePreparedStatements: boolean;
  dataDir: string;
  sqliteFile: string;
  redisUrl: string | undefined;
  logLevel: z.infer<typeof LogLevel>;
  /** Agent session lifetime, in seconds. */
  sessionTtlSeconds: number;
  llm: { baseUrl: string | undefined; model: string | undefined; apiKey: string | undefined };
  /** Directory of the built web apps (Vite output). */
  webDir: string;
  /** Largest request body accepted, in bytes; larger bodies get 413. */
  bodyLimit: number;
}

const repoRoot = resolve(import.meta.dirname, '../../..');

/**
 * Reads the configuration from environment variables. Every problem is reported at once, naming the
 * variable, so a misconfigured deployment fails at start with a message an operator can act on.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new BatonError('invalid_input', `invalid configuration: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const values = parsed.data;
  const dataDir = resolve(values.BATON_DATA_DIR);
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: values.DATABASE_URL,
    databaseSchema: values.BATON_DATABASE_SCHEMA,
    databasePoolSize: values.BATON_DATABASE_POOL_SIZE,
    databasePreparedStatements: values.BATON_DATABASE_PREPARED_STATEMENTS === 'on',
    dataDir,
    sqliteFile: resolve(dataDir, 'baton.db'),
    redisUrl: values.REDIS_URL,
    logLevel: values.LOG_LEVEL,
    sessionTtlSeconds: values.BATON_SESSION_TTL,
    llm: { baseUrl: values.BATON_LLM_BASE_URL, model: values.BATON_LLM_MODEL, apiKey: values.BATON_LLM_API_KEY },
    webDir: resolve(values.BATON_WEB_DIR ?? resolve(repoRoot, 'packages/web/dist')),
    bodyLimit: values.BATON_BODY_LIMIT,
  };
}
