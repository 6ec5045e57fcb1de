import { PostgresDialect } from 'kysely';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { type DialectFactory, errorCode } from './database.ts';
import { prepareStatements, StatementNames } from './pg-prepared.ts';

export interface PostgresDialectOptions {
  url: string;
  schema?: string;
  poolSize: number;
  /** Named prepared statements (see pg-prepared.ts); default true. Off for a pooler that cannot keep them. */
  preparedStatements?: boolean;
  logger?: Pick<Logger, 'warn'>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function createPostgresDialect(options: PostgresDialectOptions): DialectFactory {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  }
  let pool: Promise<pg.Pool> | undefined;
  const openPool = async () => {
    if (schema) {
      // Create the schema on its own connection first: every pooled connection then finds it on
      // its search_path, so unqualified queries and Kysely's migration tables land inside it.
      const client = new pg.Client({ connectionString: options.url });
      await client.connect();
      try {
        await client.query(`create schema if not exists "${schema}"`);
      } catch (error) {
        // Two processes creating the same schema at once: one of them loses the race, harmlessly.
        const code = errorCode(error);
        if (code !== '23505' && code !== '42P06') throw error;
      } finally {
        await client.end();
      }
    }
    const created = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      ...(schema ? { options: `-c search_path="${schema}"` } : {}),
    });
    // An idle client that loses its server emits 'error' on the pool; unhandled, that would
    // crash the process. The pool drops the client and the next query opens a new one.
    const logger = options.logger ?? pino({ name: 'store' });
    created.on('error', (error) => logger.warn({ err: error }, 'store: idle PostgreSQL connection failed'));
    if (options.preparedStatements !== false) {
      const names = new StatementNames();
      created.on('connect', (client) => prepareStatements(client, names));
    }
    return created;
  };
  // One pool, opened by whichever asks first: Kysely (its driver's init) or `postgresPool`.
  const sharedPool = () => {
    // A failed opening (the server unreachable) is not kept: the next caller tries again.
    pool ??= openPool().catch((error: unknown) => {
      pool = undefined;
      throw error;
    });
    return pool;
  };
  return {
    name: 'postgres',
    dialect: new PostgresDialect({ pool: sharedPool }),
    postgresPool: sharedPool,
    // Kysely ends the pool it initialised; one only `postgresPool` opened is ended here.
    async settled() {
      const opened = await pool?.catch(() => undefined);
      if (opened && !opened.ending) await opened.end();
    },
    capabilities: {
      jsonType: 'jsonb',
      serialType: 'serial',
      serialNeedsAutoIncrement: false,
      singleConnection: false,
    },
    classifyError(error) {
      const code = errorCode(error);
      if (code === '23505') return 'unique_violation';
      if (code === '23503') return 'foreign_key_violation';
      // Deadlock, serialization failure, lock timeout, too many connections: worth a retry.
      if (code === '40P01' || code === '40001' || code === '55P03' || code === '53300') return 'busy';
      return undefined;
    },
  };
}
