import { and, eq, sql } from 'drizzle-orm';
import type {
  BalanceView,
  CountStatus,
  OperationOf,
  OperationResult,
  StockOperation,
} from '../schemas/stock';
import { canonicalJson, sha256 } from './canonical';
import type { Db, Tx } from './connection';
import { StockRefusal, violatedConstraint } from './errors';
import {
  adjustments,
  auditLog,
  cycleCounts,
  locations,
  reservations,
  stockBalances,
  stockMovements,
  stockOperations,
  variants,
} from './schema';

/** Variance (as a share of the expected on-hand) above which a SKU is flagged, then stopped selling. */
export const COUNT_INVESTIGATE_PCT = 5;
export const COUNT_BLOCK_PCT = 10;

interface Place {
  sku: string;
  location: string;
  variantId: number;
  locationId: number;
  allowNegative: boolean;
}

interface Deltas {
  onHand?: number;
  reserved?: number;
  committed?: number;
  incoming?: number;
}

type BalanceRow = typeof stockBalances.$inferSelect;
type Applied = Omit<OperationResult, 'replayed' | 'idempotencyKey' | 'kind'>;

/**
 * Applies one stock operation in one transaction: claims its idempotency key, changes the
 * balances, writes the ledger movements and an audit row, and stores the result. A second call
 * with the same key changes nothing and returns the first result; the same key with a different
 * request is refused.
 */
export async function applyStockOperation(db: Db, op: StockOperation): Promise<OperationResult> {
  const { actor: _actor, ...request } = op;
  const requestHash = operationRequestHash(op);
  try {
    return await db.transaction(async (tx) => {
      const [claim, place] = await Promise.all([
        tx
          .insert(stockOperations)
          .values({ idempotencyKey: op.idempotencyKey, kind: op.kind, requestHash, actor: op.actor })
          .onConflictDoNothing({ target: stockOperations.idempotencyKey })
          .returning({ id: stockOperations.id }),
        'sku' in op && 'location' in op ? locate(tx, op.sku, op.location) : undefined,
      ]);
      if (claim.length === 0) return replay(tx, op, requestHash);
      const operationId = claim[0].id;
      const applied = await apply(tx, op, operationId, place);
      const result: OperationResult = { idempotencyKey: op.idempotencyKey, kind: op.kind, replayed: false, ...applied };
      await Promise.all([
        tx.update(stockOperations).set({ result }).where(eq(stockOperations.id, operationId)),
        tx.insert(auditLog).values({
          actor: op.actor,
          action: `stock.${op.kind}`,
          subjectType: 'stock_operation',
          subjectId: op.idempotencyKey,
          idempotencyKey: op.idempotencyKey,
          details: { request, movements: applied.movements, balances: applied.balances },
        }),
      ]);
      return result;
    });
  } catch (error) {
    throw asRefusal(error, op);
  }
}

/** Identifies a request independent of key order and of who sent it (a retry may come from another process). */
export function operationRequestHash(op: StockOperation): string {
  const { actor: _actor, ...request } = op;
  return sha256(canonicalJson(request));
}

/** The request hash already claimed for a key, if any; lets the API refuse a conflicting reuse up front. */
export async function claimedRequestHash(db: Db, idempotencyKey: string): Promise<string | undefined> {
  const [row] = await db
    .select({ requestHash: stockOperations.requestHash })
    .from(stockOperations)
    .where(eq(stockOperations.idempotencyKey, idempotencyKey));
  return row?.requestHash;
}

async function replay(tx: Tx, op: StockOperation, requestHash: string): Promise<OperationResult> {
  const [first] = await tx
    .select({ requestHash: stockOperations.requestHash, kind: stockOperations.kind, result: stockOperations.result })
    .from(stockOperations)
    .where(eq(stockOperations.idempotencyKey, op.idempotencyKey));
  if (first.requestHash !== requestHash) {
    throw new StockRefusal(
      'idempotency_conflict',
      `idempotency key "${op.idempotencyKey}" was already used for a different ${first.kind} request`,
      'idempotencyKey',
    );
  }
  return { ...(first.result as OperationResult), replayed: true };
}

function apply(tx: Tx, op: StockOperation, operationId: number, place: Place | undefined): Promise<Applied> {
  const at = () => place as Place;
  switch (op.kind) {
    case 'receive':
      return receive(tx, op, operationId, at());
    case 'issue':
      return issue(tx, op, operationId, at());
    case 'reserve':
      return reserve(tx, op, operationId, at());
    case 'release':
      return settleReservation(tx, op, operationId, 'active', op.outcome, { reserved: -1 });
    case 'commit':
      return settleReservation(tx, op, operationId, 'active', 'committed', { reserved: -1, committed: 1 });
    case 'ship':
      return settleReservation(tx, op, operationId, 'committed', 'issued', { committed: -1, onHand: -1 });
    case 'adjust':
      return adjust(tx, op, operationId, at());
    case 'transfer':
      return transfer(tx, op, operationId);
    case 'set_incoming':
      return setIncoming(tx, op, operationId, at());
    case 'cycle_count':
      return cycleCount(tx, op, operationId, at());
    case 'resolve_count_flag':
      return resolveCountFlag(tx, at());
  }
}

async function receive(tx: Tx, op: OperationOf<'receive'>, operationId: number, place: Place): Promise<Applied> {
  const row = await addToBalance(tx, place, { onHand: op.quantity });
  await recordMovement(tx, op, operationId, place, { onHand: op.quantity });
  return { movements: 1, balances: [view(place.sku, place.location, row)] };
}

async function issue(tx: Tx, op: OperationOf<'issue'>, operationId: number, place: Place): Promise<Applied> {
  const row = await takeFromAvailable(tx, place, op.quantity, { onHand: -op.quantity });
  await recordMovement(tx, op, operationId, place, { onHand: -op.quantity });
  return { movements: 1, balances: [view(place.sku, place.location, row)] };
}

async function reserve(tx: Tx, op: OperationOf<'reserve'>, operationId: number, place: Place): Promise<Applied> {
  const row = await takeFromAvailable(tx, place, op.quantity, { reserved: op.quantity });
  const [[reservation]] = await Promise.all([
    tx
      .insert(reservations)
      .values({
        idempotencyKey: op.idempotencyKey,
        variantId: place.variantId,
        locationId: place.locationId,
        quantity: op.quantity,
        orderRef: op.orderRef,
        expiresAt: sql`now() + make_interval(secs => ${op.ttlSeconds})`,
      })
      .returning({ status: reservations.status, expiresAt: reservations.expiresAt }),
    recordMovement(tx, op, operationId, place, { reserved: op.quantity }),
  ]);
  return {
    movements: 1,
    balances: [view(place.sku, place.location, row)],
    reservation: {
      key: op.idempotencyKey,
      status: reservation.status,
      quantity: op.quantity,
      expiresAt: reservation.expiresAt.toISOString(),
    },
  };
}

/**
 * Moves a reservation along its life (release, expire, commit, ship). The conditional update on
 * the reservation's status is what makes two racing settlements of one reservation safe.
 */
async function settleReservation(
  tx: Tx,
  op: OperationOf<'release' | 'commit' | 'ship'>,
  operationId: number,
  from: 'active' | 'committed',
  to: 'released' | 'expired' | 'committed' | 'issued',
  perUnit: Deltas,
): Promise<Applied> {
  const [settled] = await tx
    .update(reservations)
    .set({ status: to, updatedAt: sql`now()` })
    .where(and(eq(reservations.idempotencyKey, op.reservationKey), eq(reservations.status, from)))
    .returning();
  if (!settled) {
    const [existing] = await tx
      .select({ status: reservations.status })
      .from(reservations)
      .where(eq(reservations.idempotencyKey, op.reservationKey));
    if (!existing) {
      throw new StockRefusal('unknown_reservation', `no reservation was made with key "${op.reservationKey}"`, 'reservationKey');
    }
    throw new StockRefusal(
      from === 'active' ? 'reservation_not_active' : 'reservation_not_committed',
      `reservation "${op.reservationKey}" is ${existing.status}; ${op.kind} needs it ${from}`,
      'reservationKey',
    );
  }
  const place = await placeOf(tx, settled.variantId, settled.locationId);
  const deltas = scale(perUnit, settled.quantity);
  const [row] = await Promise.all([addToBalance(tx, place, deltas), recordMovement(tx, op, operationId, place, deltas)]);
  return {
    movements: 1,
    balances: [view(place.sku, place.location, row)],
    reservation: {
      key: op.reservationKey,
      status: settled.status,
      quantity: settled.quantity,
      expiresAt: settled.expiresAt.toISOString(),
    },
  };
}

async function adjust(tx: Tx, op: OperationOf<'adjust'>, operationId: number, place: Place): Promise<Applied> {
  const row = await addToBalance(tx, place, { onHand: op.delta });
  await Promise.all([
    recordMovement(tx, op, operationId, place, { onHand: op.delta }, op.reasonCode),
    tx.insert(adjustments).values({
      idempotencyKey: op.idempotencyKey,
      variantId: place.variantId,
      locationId: place.locationId,
      delta: op.delta,
      reasonCode: op.reasonCode,
      note: op.note,
      evidence: op.evidence,
      actor: op.actor,
    }),
  ]);
  return { movements: 1, balances: [view(place.sku, place.location, row)] };
}

async function transfer(tx: Tx, op: OperationOf<'transfer'>, operationId: number): Promise<Applied> {
  const [source, destination] = await Promise.all([locate(tx, op.sku, op.from, 'from'), locate(tx, op.sku, op.to, 'to')]);
  // Lock in a fixed order so two opposite transfers cannot deadlock.
  const first = source.locationId < destination.locationId ? 'source' : 'destination';
  let sourceRow: BalanceRow;
  let destinationRow: BalanceRow;
  if (first === 'source') {
    sourceRow = await takeFromAvailable(tx, source, op.quantity, { onHand: -op.quantity });
    destinationRow = await addToBalance(tx, destination, { onHand: op.quantity });
  } else {
    destinationRow = await addToBalance(tx, destination, { onHand: op.quantity });
    sourceRow = await takeFromAvailable(tx, source, op.quantity, { onHand: -op.quantity });
  }
  await Promise.all([
    recordMovement(tx, op, operationId, source, { onHand: -op.quantity }),
    recordMovement(tx, op, operationId, destination, { onHand: op.quantity }),
  ]);
  return { movements: 2, balances: [view(op.sku, op.from, sourceRow), view(op.sku, op.to, destinationRow)] };
}

async function setIncoming(tx: Tx, op: OperationOf<'set_incoming'>, operationId: number, place: Place): Promise<Applied> {
  const current = await lockBalance(tx, place);
  const delta = op.quantity - current.incoming;
  if (delta === 0) return { movements: 0, balances: [view(place.sku, place.location, current)] };
  const row = await addToBalance(tx, place, { incoming: delta });
  await recordMovement(tx, op, operationId, place, { incoming: delta });
  return { movements: 1, balances: [view(place.sku, place.location, row)] };
}

/** The share of the expected on-hand that a count differs by; anything found where nothing was expected is 100%. */
export function variancePercent(expected: number, counted: number): number {
  if (expected === counted) return 0;
  if (expected <= 0) return 100;
  return Math.round((Math.abs(counted - expected) / expected) * 10_000) / 100;
}

export function countOutcome(variancePct: number): CountStatus {
  if (variancePct > COUNT_BLOCK_PCT) return 'blocked';
  if (variancePct > COUNT_INVESTIGATE_PCT) return 'investigate';
  return 'ok';
}

const SEVERITY: Record<CountStatus, number> = { ok: 0, investigate: 1, blocked: 2 };

async function cycleCount(tx: Tx, op: OperationOf<'cycle_count'>, operationId: number, place: Place): Promise<Applied> {
  const current = await lockBalance(tx, place);
  const expected = current.onHand;
  const variance = op.counted - expected;
  const variancePct = variancePercent(expected, op.counted);
  const outcome = countOutcome(variancePct);
  // A clean recount does not lift an earlier flag: someone has to resolve it on purpose.
  const countStatus = SEVERITY[outcome] > SEVERITY[current.countStatus as CountStatus] ? outcome : current.countStatus;
  const [row] = await tx
    .update(stockBalances)
    .set({ onHand: op.counted, countStatus, updatedAt: sql`now()` })
    .where(balanceKey(place))
    .returning();
  const writes: Promise<unknown>[] = [
    tx.insert(cycleCounts).values({
      idempotencyKey: op.idempotencyKey,
      variantId: place.variantId,
      locationId: place.locationId,
      expected,
      counted: op.counted,
      variance,
      variancePct,
      outcome,
      actor: op.actor,
    }),
  ];
  if (variance !== 0) {
    writes.push(
      recordMovement(tx, op, operationId, place, { onHand: variance }, 'count_variance'),
      tx.insert(adjustments).values({
        idempotencyKey: op.idempotencyKey,
        variantId: place.variantId,
        locationId: place.locationId,
        delta: variance,
        reasonCode: 'count_variance',
        note: `cycle count: expected ${expected}, counted ${op.counted}`,
        actor: op.actor,
      }),
    );
  }
  await Promise.all(writes);
  return {
    movements: variance === 0 ? 0 : 1,
    balances: [view(place.sku, place.location, row)],
    cycleCount: { expected, counted: op.counted, variance, variancePct, outcome },
  };
}

async function resolveCountFlag(tx: Tx, place: Place): Promise<Applied> {
  await lockBalance(tx, place);
  const [row] = await tx
    .update(stockBalances)
    .set({ countStatus: 'ok', updatedAt: sql`now()` })
    .where(balanceKey(place))
    .returning();
  return { movements: 0, balances: [view(place.sku, place.location, row)] };
}

/** Resolves a SKU and a location code in one round trip, saying which one is unknown. */
export async function locate(tx: Tx | Db, sku: string, location: string, locationField = 'location'): Promise<Place> {
  const [found] = await tx
    .select({
      variantId: sql<number | null>`(SELECT id FROM ${variants} WHERE ${variants.sku} = ${sku})`,
      allowNegative: sql<boolean | null>`(SELECT allow_negative FROM ${variants} WHERE ${variants.sku} = ${sku})`,
      locationId: sql<number | null>`(SELECT id FROM ${locations} WHERE ${locations.code} = ${location})`,
    })
    .from(sql`(SELECT 1) AS one`);
  if (found.variantId === null) throw new StockRefusal('unknown_sku', `unknown SKU "${sku}"`, 'sku');
  if (found.locationId === null) {
    throw new StockRefusal('unknown_location', `unknown location "${location}"`, locationField);
  }
  return { sku, location, variantId: found.variantId, locationId: found.locationId, allowNegative: Boolean(found.allowNegative) };
}

async function placeOf(tx: Tx, variantId: number, locationId: number): Promise<Place> {
  const [found] = await tx
    .select({ sku: variants.sku, allowNegative: variants.allowNegative, location: locations.code })
    .from(variants)
    .innerJoin(locations, eq(locations.id, locationId))
    .where(eq(variants.id, variantId));
  return { ...found, variantId, locationId };
}

function balanceKey(place: Place) {
  return and(eq(stockBalances.variantId, place.variantId), eq(stockBalances.locationId, place.locationId));
}

/**
 * Adds to buckets, creating the balance row on first use. The table's CHECKs refuse a negative
 * result. Update first (the row nearly always exists); a missing row is created at zero and then
 * updated, because an upsert would check its proposed insert row against the CHECKs before
 * noticing the conflict.
 */
async function addToBalance(tx: Tx, place: Place, d: Deltas): Promise<BalanceRow> {
  const update = () =>
    tx
      .update(stockBalances)
      .set({
        onHand: sql`${stockBalances.onHand} + ${d.onHand ?? 0}`,
        reserved: sql`${stockBalances.reserved} + ${d.reserved ?? 0}`,
        committed: sql`${stockBalances.committed} + ${d.committed ?? 0}`,
        incoming: sql`${stockBalances.incoming} + ${d.incoming ?? 0}`,
        updatedAt: sql`now()`,
      })
      .where(balanceKey(place))
      .returning();
  const [row] = await update();
  if (row) return row;
  await tx
    .insert(stockBalances)
    .values({ variantId: place.variantId, locationId: place.locationId, allowNegative: place.allowNegative })
    .onConflictDoNothing({ target: [stockBalances.variantId, stockBalances.locationId] });
  const [created] = await update();
  return created;
}

/**
 * The no-oversell guarantee: the availability check and the change are one conditional UPDATE,
 * so concurrent takers serialise on the row lock and each sees the stock the previous one left.
 */
async function takeFromAvailable(tx: Tx, place: Place, quantity: number, d: Deltas): Promise<BalanceRow> {
  const [row] = await tx
    .update(stockBalances)
    .set({
      onHand: sql`${stockBalances.onHand} + ${d.onHand ?? 0}`,
      reserved: sql`${stockBalances.reserved} + ${d.reserved ?? 0}`,
      updatedAt: sql`now()`,
    })
    .where(and(balanceKey(place), place.allowNegative ? undefined : sql`${stockBalances.available} >= ${quantity}`))
    .returning();
  if (row) return row;
  const [current] = await tx.select().from(stockBalances).where(balanceKey(place));
  if (current?.countStatus === 'blocked') {
    throw new StockRefusal(
      'selling_blocked',
      `${place.sku} at ${place.location} is blocked after a cycle count variance; resolve the count first`,
      'sku',
    );
  }
  throw new StockRefusal(
    'insufficient_stock',
    `only ${current?.available ?? 0} of ${place.sku} available at ${place.location}, ${quantity} requested`,
    'quantity',
  );
}

/** Takes the row lock (creating the row if needed) so a read-then-set cannot race another writer. */
async function lockBalance(tx: Tx, place: Place): Promise<BalanceRow> {
  return addToBalance(tx, place, {});
}

async function recordMovement(
  tx: Tx,
  op: StockOperation,
  operationId: number,
  place: Place,
  d: Deltas,
  reasonCode?: string,
): Promise<void> {
  await tx.insert(stockMovements).values({
    operationId,
    idempotencyKey: op.idempotencyKey,
    variantId: place.variantId,
    locationId: place.locationId,
    kind: op.kind,
    deltaOnHand: d.onHand ?? 0,
    deltaReserved: d.reserved ?? 0,
    deltaCommitted: d.committed ?? 0,
    deltaIncoming: d.incoming ?? 0,
    reasonCode: reasonCode ?? ('reasonCode' in op ? op.reasonCode : undefined),
    sourceRef: op.sourceRef,
    actor: op.actor,
  });
}

function scale(perUnit: Deltas, quantity: number): Deltas {
  return Object.fromEntries(Object.entries(perUnit).map(([bucket, sign]) => [bucket, sign * quantity]));
}

function view(sku: string, location: string, row: BalanceRow): BalanceView & { sku: string } {
  return {
    sku,
    location,
    onHand: row.onHand,
    reserved: row.reserved,
    committed: row.committed,
    incoming: row.incoming,
    available: row.available,
    countStatus: row.countStatus as CountStatus,
  };
}

function asRefusal(error: unknown, op: StockOperation): unknown {
  if (violatedConstraint(error) === 'stock_balances_on_hand_policy') {
    const where = 'sku' in op ? ` of ${op.sku}` : '';
    return new StockRefusal(
      'negative_not_allowed',
      `on-hand${where} would go below 0 and the item does not allow negative stock`,
      op.kind === 'adjust' ? 'delta' : 'quantity',
    );
  }
  return error;
}
