import type { StockRefusalCode } from '../schemas/stock';

/** Refusals of the service layer, beside the stock ledger's own. */
export type ServiceRefusalCode =
  | 'not_found'
  | 'ambiguous_order'
  | 'not_waiting'
  | 'already_resolved'
  | 'decision_refused'
  | 'invalid_feed'
  | 'invalid_snapshot'
  | 'unsupported_media_type'
  | 'feed_conflict'
  | 'event_conflict'
  | 'supplier_archived'
  | 'archive_has_stock'
  | 'already_exists'
  | 'item_archived'
  | 'import_conflict'
  | 'invalid_import'
  | 'invalid_lines'
  | 'cart_not_held'
  | 'principal_exists'
  | 'purchase_order_conflict'
  | 'purchase_order_not_open'
  | 'over_receipt'
  /** The counter of a line over tolerance tried to recount it: the recount is someone else's. */
  | 'recount_by_other'
  | 'already_counted';

export type RefusalCode = StockRefusalCode | ServiceRefusalCode;

/**
 * A request that was understood and is not allowed: an outcome, not a failure. Nothing was
 * written. The API turns the code into an HTTP status in one place; workflows record it as the
 * outcome; workers log it quietly.
 */
export class Refusal<C extends RefusalCode = RefusalCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
