import { availableOf, changesSomething, deltasOf, movementReason, rangeBreach, withDeltas } from '../domain/balance';
import type { OperationOf, OperationResult } from '../schemas/stock';
import type { Sql } from './client';
import { StockRefusal } from './errors';
import { balanceOf, findPlace, lockBalances, recordBatch, type BatchRecord, type LockedBalance } from './ledger';
import { negativeNotAllowed, outOfRange, refusalAt, reserveFits } from './ledger-refusals';
import { firstUses, keyed, replay, type FirstUse, type Keyed } from './ledger-requests';

/**
 * The kinds a batch applies: each changes one balance by a rule of what the balance holds, and
 * writes nothing but the ledger and, for a reservation, the reservation (an adjustment or a count
 * has records of its own: one at a time).
 */
export type BatchOperation = OperationOf<'receive' | 'set_on_hand' | 'set_incoming' | 'expect_incoming' | 'receive_incoming' | 'cancel_incoming' | 'reserve'>;

/** What became of one operation of a batch, in the batch's order. */
export type BatchOutcome = { op: BatchOperation; result: OperationResult } | { op: BatchOperation; refusal: StockRefusal };

const placeKey = (p: { sku: string; location: string }) => `${p.location}/${p.sku}`;

/**
 * Applies many operations in the caller's transaction, in order, each as applyStockOperation
 * would one after the other: the same request hash under its key, the same result, its movement
 * and one audit row. A key used before (or earlier in the batch) replays its first result or is
 * refused as a conflict; a refused operation writes nothing and the others go on. The caller
 * decides what a refusal means for the rest: roll back, or report it.
 *
 * However many operations, it costs two round trips: the keys and the balance rows are read
 * (the rows locked, in one order; see lockBalances), the changes worked out here, and everything
 * written in one statement (recordBatch). A caller that records what the outcomes mean gives
 * `alongside`: it is handed the outcomes before they are written, and its statements go out behind
 * the ledger's write, in the same round trip (the checkout's answers, written while its batch holds
 * the hot row's lock).
 */
export async function applyStockOperations(
  tx: Sql,
  ops: readonly BatchOperation[],
  alongside?: (outcomes: readonly BatchOutcome[]) => Promise<void>,
): Promise<BatchOutcome[]> {
  if (ops.length === 0) {
    await alongside?.([]);
    return [];
  }
  const places = [...new Map(ops.map((op) => [placeKey(op), { sku: op.sku, location: op.location }])).values()];
  const [claimed, locked, nowMs] = await Promise.all([
    firstUses(tx, ops.map((op) => op.idempotencyKey)),
    lockBalances(tx, places),
    ops.some((op) => op.kind === 'reserve') ? transactionStartMs(tx) : 0,
  ]);
  const batch = new Batch(claimed, locked, nowMs);
  const outcomes: BatchOutcome[] = [];
  for (const op of ops) {
    try {
      outcomes.push({ op, result: batch.holds(op) ? batch.apply(keyed(op)) : await unknownPlace(tx, op) });
    } catch (error) {
      if (!(error instanceof StockRefusal)) throw error;
      outcomes.push({ op, refusal: error });
    }
  }
  const writes = batch.records.length > 0 ? [recordBatch(tx, batch.records, batch.finals())] : [];
  if (alongside) writes.push(alongside(outcomes));
  await Promise.all(writes);
  return outcomes;
}

/** The transaction's now() in whole milliseconds: a reservation's expiry is now() plus its TTL, as the reserve statement sets it. */
async function transactionStartMs(tx: Sql): Promise<number> {
  const [row] = await tx<{ ms: string }[]>`SELECT floor(extract(epoch FROM now()) * 1000)::bigint::text AS ms`;
  return Number(row.ms);
}

/** Says which of the SKU and the location is unknown, as one operation would. */
async function unknownPlace(tx: Sql, op: BatchOperation): Promise<never> {
  await findPlace(tx, op.sku, op.location);
  throw new Error(`the balance of ${op.sku} at ${op.location} was not locked for the batch`);
}

/** The batch as it is worked out: the balances as each operation leaves them, the keys claimed, what to record. */
class Batch {
  readonly records: BatchRecord[] = [];
  private readonly balances: Map<string, LockedBalance>;
  private readonly changed = new Set<string>();

  constructor(
    private readonly claimed: Map<string, FirstUse>,
    private readonly locked: readonly LockedBalance[],
    /** The transaction's now(), for reservations' expiry. */
    private readonly nowMs: number,
  ) {
    this.balances = new Map(locked.map((b) => [placeKey(b), b]));
  }

  /** Whether the operation's balance is locked for the batch: its SKU and location are known. */
  holds(op: BatchOperation): boolean {
    return this.balances.has(placeKey(op));
  }

  /** Works out one operation on the balance as the earlier ones left it; a refusal is thrown and changes nothing. */
  apply(request: Keyed<BatchOperation>): OperationResult {
    const { op, requestHash } = request;
    const first = this.claimed.get(op.idempotencyKey);
    if (first) return replay(request, first);
    const current = this.balances.get(placeKey(op)) as LockedBalance;
    if (op.kind === 'reserve') {
      const state = { ...current, available: availableOf(current) };
      if (!reserveFits(state, op.quantity)) throw refusalAt(state, op, op.quantity);
    }
    const deltas = deltasOf(op, current);
    const breach = rangeBreach(current, deltas);
    if (breach) throw outOfRange(op, breach, current);
    const after = { ...current, ...withDeltas(current, deltas) };
    if (after.onHand < 0 && !after.allowNegative) throw negativeNotAllowed(op);
    const moved = changesSomething(deltas);
    const result: OperationResult = { idempotencyKey: op.idempotencyKey, kind: op.kind, replayed: false, movements: moved ? 1 : 0, balances: [balanceOf(after)] };
    if (op.kind === 'reserve') {
      result.reservation = { key: op.idempotencyKey, status: 'active', quantity: op.quantity, expiresAt: new Date(this.nowMs + op.ttlSeconds * 1000).toISOString() };
    }
    this.records.push({ keyed: request, result, movement: moved ? { place: current, deltas, reasonCode: movementReason(op) } : undefined });
    this.claimed.set(op.idempotencyKey, { requestHash, kind: op.kind, result });
    this.balances.set(placeKey(op), after);
    if (moved) this.changed.add(placeKey(op));
    return result;
  }

  /** The changed balances' final figures, in the order they were locked. */
  finals(): LockedBalance[] {
    return this.locked.filter((b) => this.changed.has(placeKey(b))).map((b) => this.balances.get(placeKey(b)) as LockedBalance);
  }
}
