import type postgres from 'postgres';
import type { Db } from './connection';

/** The pool, which can open transactions. */
export type Pool = postgres.Sql;
/** Anything that runs queries: the pool or an open transaction. */
export type Sql = postgres.ISql;
/** An open transaction, which can also open savepoints. */
export type TransactionSql = postgres.TransactionSql;

/**
 * The postgres.js client under Drizzle (drizzle-orm/postgres-js sets `$client`; the Db type leaves
 * it out). Queries on it are prepared and, within a transaction, pipelined: the ledger and the feed
 * chunks use it where a statement runs thousands of times. Drizzle has set it to send jsonb
 * parameters as the JSON text they are given, which is how those modules pass them.
 */
export function clientOf(db: Db): Pool {
  return (db as Db & { $client: Pool }).$client;
}

/** How a timestamptz leaves Postgres for the API: ISO-8601 in UTC, to the millisecond. */
const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** `column` (a trusted column expression, never input) as ISO-8601 UTC text. */
export const isoAt = (pg: Sql, column: string) => pg.unsafe(`to_char(${column} AT TIME ZONE 'UTC', ${ISO_UTC})`);

/** Now plus `seconds` as ISO-8601 UTC text, by the database clock. */
export const isoIn = (pg: Sql, seconds: number) => pg`to_char((now() + make_interval(secs => ${seconds})) AT TIME ZONE 'UTC', ${pg.unsafe(ISO_UTC)})`;
