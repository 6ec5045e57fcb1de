import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type BatonServer, type CreateServerOptions, createServer } from '../src/app/server.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { type DemoSeed, seedDemo } from '../src/demo/seed.ts';

export const TEST_POSTGRES_URL = process.env.BATON_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestServerOptions extends Pick<CreateServerOptions, 'modules' | 'extraModules' | 'bus'> {
  /** Default sqlite. */
  database?: 'sqlite' | 'postgres';
  /** Reuse a data directory (SQLite) — e.g. to restart on the same file. Not deleted on close. */
  dataDir?: string;
  /** Reuse a PostgreSQL database (from `createTestDatabase`) — e.g. to restart on the same data. Not dropped on close. */
  databaseUrl?: string;
  /** Extra environment (REDIS_URL, BATON_OFFER_TTL_MS …), read like the real server reads it. */
  env?: Record<string, string>;
  /** Seed the demo workspace (agents, bot key) into an empty database. Default true. */
  seed?: boolean;
}

export interface TestServer {
  url: string;
  /** ws://… for `/v1/stream`. */
  wsUrl: string;
  config: Config;
  server: BatonServer;
  /** Credentials of the seeded demo workspace; undefined when the database was already seeded. */
  seed: DemoSeed | undefined;
  dataDir: string | undefined;
  /** The PostgreSQL database of this server, when on PostgreSQL. */
  databaseUrl: string | undefined;
  /** Signs an agent in (default: the first seeded agent) and returns its session token. */
  login(email?: string, password?: string): Promise<string>;
  /** Stops the server; removes the temp data it created (not data passed in `dataDir`/`databaseUrl`). */
  close(): Promise<void>;
}

/**
 * Starts a real Baton server on port 0 with a temp SQLite file (or its own PostgreSQL database), the
 * demo workspace seeded, logs silent. For API, WebSocket and browser tests.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const usePostgres = options.database === 'postgres';
  const ownsDataDir = !usePostgres && options.dataDir === undefined;
  const dataDir = usePostgres ? undefined : (options.dataDir ?? mkdtempSync(join(tmpdir(), 'baton-test-')));
  const ownsDatabase = usePostgres && options.databaseUrl === undefined;
  const databaseUrl = usePostgres ? (options.databaseUrl ?? (await createTestDatabase())) : undefined;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BATON_TEST_LOG_LEVEL ?? 'silent',
    ...(dataDir ? { BATON_DATA_DIR: dataDir } : {}),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  });
  const cleanup = async () => {
    if (ownsDataDir && dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (ownsDatabase && databaseUrl) await dropTestDatabase(databaseUrl);
  };
  let server: BatonServer;
  try {
    server = await createServer(config, {
      ...(options.modules ? { modules: options.modules } : {}),
      ...(options.extraModules ? { extraModules: options.extraModules } : {}),
      ...(options.bus ? { bus: options.bus } : {}),
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const seed = options.seed === false ? undefined : await seedDemo(server.deps);
  const url = server.url;
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/v1/stream`,
    config,
    server,
    seed,
    dataDir,
    databaseUrl,
    async login(email, password) {
      const agent = seed?.agents.find((candidate) => candidate.email === email) ?? seed?.agents[0];
      const response = await fetch(`${url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: email ?? agent?.email, password: password ?? agent?.password }),
      });
      if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    },
    async close() {
      await server.close();
      await cleanup();
    },
  };
}

/**
 * A fresh PostgreSQL database per test server: runs in parallel never see each other's tables (a
 * schema per run is not enough, Kysely's migrator looks for its tables across all schemas).
 */
export async function createTestDatabase(): Promise<string> {
  const name = `baton_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropTestDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  if (!/^baton_test_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop ${name}`);
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
