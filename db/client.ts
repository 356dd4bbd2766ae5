import type postgres from 'postgres';
import type { Db } from './connection';

/** The pool, which can open transactions. */
export type Pool = postgres.Sql;
/** Anything that runs queries: the pool or an open transaction. */
export type Sql = postgres.ISql;

/**
 * The postgres.js client under Drizzle (drizzle-orm/postgres-js sets `$client`; the Db type leaves
 * it out). Queries on it are prepared and, within a transaction, pipelined: the ledger and the feed
 * chunks use it where a statement runs thousands of times. Drizzle has set it to send jsonb
 * parameters as the JSON text they are given, which is how those modules pass them.
 */
export function clientOf(db: Db): Pool {
  return (db as Db & { $client: Pool }).$client;
}
