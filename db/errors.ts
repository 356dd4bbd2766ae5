import type { StockRefusalCode } from '../schemas/stock';

/**
 * A business refusal: the request was understood and is not allowed (out of stock, unknown SKU,
 * negative on-hand). Nothing was written. Retrying the same request will not help by itself.
 */
export class StockRefusal extends Error {
  readonly name = 'StockRefusal';
  constructor(
    readonly code: StockRefusalCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

interface PgError {
  code?: string;
  constraint_name?: string;
}

export function isPgError(error: unknown, code: string): error is PgError {
  return typeof error === 'object' && error !== null && (error as PgError).code === code;
}

export const CHECK_VIOLATION = '23514';

export function violatedConstraint(error: unknown): string | undefined {
  return isPgError(error, CHECK_VIOLATION) ? (error as PgError).constraint_name : undefined;
}
