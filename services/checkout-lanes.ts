import { CHECKOUT_CONNECTIONS, type Db } from '../db/connection';
import { placeOrders, type BatchedPlacement } from '../db/placement-batch';
import { placeOrder, type PlacementReceipt, type PlacementRequest } from '../db/placements';
import { BatchLanes, lanesPer } from './batch-lanes';

/**
 * Lanes per process, one per checkout connection: enough that checkouts of different SKUs do not
 * wait for each other. Orders per batch: few enough that a batch's transaction stays short.
 */
const LANES = CHECKOUT_CONNECTIONS;
const ORDERS_PER_BATCH = 64;

/** Placements of this process waiting behind a batch, and who waits for there to be none. */
let backlog = 0;
const settledWaiters: (() => void)[] = [];
const countBacklog = (delta: number) => {
  backlog += delta;
  if (backlog === 0) for (const settled of settledWaiters.splice(0)) settled();
};

const lanesOf = lanesPer((db: Db) => new BatchLanes(LANES, ORDERS_PER_BATCH, (requests: PlacementRequest[]) => placeBatch(db, requests), countBacklog));

/** Resolves once no placement of this process waits behind a batch (a rush has been taken up), or after `maxWaitMs` at the latest. */
export function checkoutsSettled(maxWaitMs: number): Promise<void> {
  if (backlog === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, maxWaitMs);
    settledWaiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Places an order at checkout. Placements are gathered per process and database into batches of
 * one transaction each, in lanes by the order's first SKU: a flash sale's buyers of one SKU share a
 * lane, and so a commit, instead of queueing one by one on the balance row.
 */
export async function placeAtCheckout(db: Db, request: PlacementRequest): Promise<PlacementReceipt> {
  const placed = await lanesOf(db).submit(request.event.lines.map((l) => l.sku).sort()[0] ?? '', request);
  if ('failed' in placed) throw placed.failed;
  return placed.receipt;
}

/**
 * A batch placed together, or, when its transaction fails, each order again on its own: one order's
 * cause (a database error, a bug) fails that order, never the buyers who would have been answered
 * alone. The batch's transaction rolled back whole, so placing again repeats nothing.
 */
export async function placeBatch(db: Db, requests: readonly PlacementRequest[]): Promise<BatchedPlacement[]> {
  try {
    return await placeOrders(db, requests);
  } catch (error) {
    // A real failure (the plan and the ledger disagreeing is a defect): loud, though no buyer sees it.
    console.error(`a checkout batch of ${requests.length} orders failed; placing each alone:`, error);
    return Promise.all(requests.map((r) => placeOrder(db, r).then((receipt) => ({ receipt }), (failed: unknown) => ({ failed }))));
  }
}
