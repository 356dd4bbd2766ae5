import { Refusal } from '../domain/refusal';
import type { StockRefusalCode } from '../schemas/stock';

/**
 * A refusal of the stock ledger: out of stock, unknown SKU, negative on-hand. Retrying the same
 * request will not help by itself.
 */
export class StockRefusal extends Refusal<StockRefusalCode> {
  readonly name = 'StockRefusal';
}

interface PgError {
  code?: string;
  constraint_name?: string;
}

/** The Postgres error behind an error, unwrapping Drizzle's query wrapper. */
export function pgErrorOf(error: unknown): PgError | undefined {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof (e as PgError).code === 'string' && /^[0-9A-Z]{5}$/.test((e as PgError).code as string)) return e as PgError;
  }
  return undefined;
}

/** A figure beyond its column's range (a balance bucket past int32). */
export const NUMERIC_OUT_OF_RANGE = '22003';
export const CHECK_VIOLATION = '23514';
export const UNIQUE_VIOLATION = '23505';

export function violatedConstraint(error: unknown): string | undefined {
  const pg = pgErrorOf(error);
  return pg?.code === CHECK_VIOLATION ? pg.constraint_name : undefined;
}
