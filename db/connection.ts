import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { surviveClosedSocketWrites } from './driver-defects';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  /** Connections of their own for checkout batches (services/checkout-lanes.ts): see CHECKOUT_CONNECTIONS. */
  checkout: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/**
 * Connections kept for checkout batches, one per lane. A batch's statements and the triggers they
 * fire are prepared and planned once per connection; on the shared pool a flash sale's batches
 * each landed on a connection that had not run them yet, and paid for it on the hot row's lock
 * (the flash-sale bench). The pool opens them only when a checkout comes.
 */
export const CHECKOUT_CONNECTIONS = 8;

export function connect(url: string, options: { max?: number } = {}): Database {
  surviveClosedSocketWrites();
  const pool = (max: number) => postgres(url, { max, onnotice: () => undefined });
  const sql = pool(options.max ?? 10);
  const checkout = pool(CHECKOUT_CONNECTIONS);
  return {
    db: drizzle(sql, { schema }),
    checkout: drizzle(checkout, { schema }),
    sql,
    close: async () => {
      await Promise.all([sql.end({ timeout: 5 }), checkout.end({ timeout: 5 })]);
    },
  };
}
