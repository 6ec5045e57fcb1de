import type pg from 'pg';

/**
 * Distinct statement texts a pool prepares at most; later ones run unnamed. Baton's own statements are a
 * few dozen; a text that varies with its input (a list of n values) would otherwise prepare without end,
 * on every connection.
 */
export const PREPARED_STATEMENTS_LIMIT = 500;

/** `cached plan must not change result type`: a table a prepared statement reads changed shape. */
const FEATURE_NOT_SUPPORTED = '0A000';

/**
 * Names for the statement texts of one pool. PostgreSQL parses and plans an unnamed statement on every
 * execution (for the append's CTE, about as long as running it); a named one once per connection. Kysely
 * sends every query unnamed, so the pool's clients name those with parameters on their way out (a query
 * without them may hold several statements, which only the unnamed simple protocol allows).
 */
export class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #limit: number;
  #next = 0;

  constructor(limit = PREPARED_STATEMENTS_LIMIT) {
    this.#limit = limit;
  }

  nameFor(text: string): string | undefined {
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < this.#limit) {
      name = `baton_${(this.#next++).toString(36)}`;
      this.#names.set(text, name);
    }
    return name;
  }

  /** The text gets a new name next time, so each connection prepares it afresh. */
  forget(text: string): void {
    this.#names.delete(text);
  }

  get size(): number {
    return this.#names.size;
  }
}

type QueryFunction = (...args: unknown[]) => unknown;

/**
 * Makes `client` run parameterised text queries as named prepared statements (see StatementNames). A
 * statement whose cached plan no longer fits its tables (a migration changed them under a running
 * process) fails once on each connection that prepared it, as PostgreSQL reports it; its text is then
 * forgotten, so the next run prepares it again instead of failing for ever.
 */
export function prepareStatements(client: pg.PoolClient | pg.Client, names: StatementNames): void {
  const query = client.query.bind(client) as QueryFunction;
  const preparing: QueryFunction = (...args) => {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) {
      return query(...args);
    }
    const name = names.nameFor(text);
    if (name === undefined) return query(...args);
    return (query({ name, text, values }) as Promise<pg.QueryResult>).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === FEATURE_NOT_SUPPORTED) names.forget(text);
      throw error;
    });
  };
  client.query = preparing as typeof client.query;
}
