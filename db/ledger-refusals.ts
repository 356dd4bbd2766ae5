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

/** What the refusals depend on, as a place stands. */
export interface PlaceState {
  available: number;
  countStatus: string | null;
  archived: boolean;
  locationArchived: boolean;
}

/** The refusal for taking `quantity` from a place in the state given (read under its lock, or kept exact by its holder). */
export function refusalAt(state: PlaceState, place: { sku: string; location: string }, quantity: number): StockRefusal {
  if (state.archived) return new StockRefusal('sku_archived', `${place.sku} is archived: its history stays, nothing new may be taken from it; restore it first`, 'sku');
  if (state.locationArchived) {
    return new StockRefusal('location_archived', `location ${place.location} is archived: its history stays, nothing new may be reserved there; restore it first`, 'location');
  }
  if (state.countStatus === 'blocked') {
    return new StockRefusal(
      'selling_blocked',
      `${place.sku} at ${place.location} is blocked after a cycle count variance; resolve the count first`,
      'sku',
    );
  }
  return new StockRefusal('insufficient_stock', `only ${state.available} of ${place.sku} available at ${place.location}, ${quantity} requested`, 'quantity');
}

/** The reserve statement's own condition: an open SKU and location, and the units available unless the item may go negative. */
export function reserveFits(state: PlaceState & { allowNegative: boolean }, quantity: number): boolean {
  return !state.archived && !state.locationArchived && (state.allowNegative || state.available >= quantity);
}
