import { BALANCE_MAX, BALANCE_MIN, describeBreach, type RangeBreach } from '../domain/balance';
import type { StockOperation } from '../schemas/stock';
import { StockRefusal } from './errors';

// The refusals both entry points of the ledger give in the same words.

/** The request field that carries an operation's figure. */
function figureField(op: StockOperation): string {
  if (op.kind === 'adjust') return 'delta';
  if (op.kind === 'cycle_count') return 'counted';
  return 'quantity';
}

export function negativeNotAllowed(op: StockOperation): StockRefusal {
  const where = 'sku' in op ? ` of ${op.sku}` : '';
  return new StockRefusal('negative_not_allowed', `on-hand${where} would go below 0 and the item does not allow negative stock`, figureField(op));
}

export function outOfRange(op: StockOperation, breach: RangeBreach, place: { sku: string; location: string }): StockRefusal {
  return new StockRefusal('quantity_out_of_range', `${op.kind}: ${describeBreach(breach, `${place.sku} at ${place.location}`)}`, figureField(op));
}

/** When the figure that would leave its range can no longer be pinned down (the balance changed since). */
export function outOfRangeSomewhere(op: StockOperation): StockRefusal {
  const range = `${BALANCE_MIN.toLocaleString('en-US')} to ${BALANCE_MAX.toLocaleString('en-US')}`;
  return new StockRefusal('quantity_out_of_range', `${op.kind}: a stock balance would leave the range it can hold (${range} base units)`, figureField(op));
}
