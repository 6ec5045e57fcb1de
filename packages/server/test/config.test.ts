import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/app/auth.ts';
import { redactUrl } from '../src/app/logger.ts';
import { loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('has defaults that start an embedded server', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      redisUrl: undefined,
      logLevel: 'info',
      sessionTtlSeconds: 43200,
      databasePoolSize: 10,
      databasePreparedStatements: true,
    });
    expect(config.sqliteFile).toBe(resolve('./data/baton.db'));
    expect(config.webDir.endsWith('packages/web/dist')).toBe(true);
  });

  it('reads the environment', () => {
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: 'postgres://baton@db:5432/baton',
      REDIS_URL: 'redis://cache:6379',
      LOG_LEVEL: 'silent',
      BATON_DATA_DIR: '/var/lib/baton',
      BATON_LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
      BATON_LLM_MODEL: 'llama3.1',
      BATON_DATABASE_POOL_SIZE: '24',
      BATON_DATABASE_PREPARED_STATEMENTS: 'off',
    });
    expect(config).toMatchObject({
      port: 0,
      databasePoolSize: 24,
      databasePreparedStatements: false,
      databaseUrl: 'postgres://baton@db:5432/baton',
      redisUrl: 'redis://cache:6379',
      logLevel: 'silent',
      sqliteFile: '/var/lib/baton/baton.db',
      llm: { baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.1', apiKey: undefined },
    });
  });

  it('names every bad variable in one clear error', () => {
    expect(() =>
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', BATON_SESSION_TTL: '-5' }),
    ).toThrow(
      /invalid configuration: PORT: must be a number; DATABASE_URL: must be a postgres:\/\/ URL.*; LOG_LEVEL: .*; BATON_SESSION_TTL: must be positive/,
    );
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT: must be between 0 and 65535/);
    expect(() => loadConfig({ BATON_DATABASE_POOL_SIZE: '1' })).toThrow(/BATON_DATABASE_POOL_SIZE: must be at least 2/);
    expect(() => loadConfig({ BATON_DATABASE_PREPARED_STATEMENTS: 'yes' })).toThrow(
      /BATON_DATABASE_PREPARED_STATEMENTS: must be on or off/,
    );
    expect(() => loadConfig({ BATON_DATABASE_POOL_SIZE: 'many' })).toThrow(
      /BATON_DATABASE_POOL_SIZE: must be a number of connections/,
    );
  });
});

describe('password hashing', () => {
  it('verifies the right password only, with a random salt per hash', async () => {
    const first = await hashPassword('correct horse battery staple');
    const second = await hashPassword('correct horse battery staple');
    expect(first).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword('correct horse battery staple', first)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', first)).toBe(false);
    expect(await verifyPassword('anything', 'plain-text-is-never-accepted')).toBe(false);
  });
});

describe('log redaction', () => {
  it('keeps credentials passed in a query string out of logged URLs', () => {
    expect(redactUrl('/v1/stream?token=abc&conversationId=c_1&customerToken=xyz')).toBe(
      '/v1/stream?token=[redacted]&conversationId=c_1&customerToken=[redacted]',
    );
    expect(redactUrl('/v1/conversations?status=queued')).toBe('/v1/conversations?status=queued');
  });
});
