import { changesSomething, deltasOf, movementOf, movementReason, rangeBreach, type Buckets, type Deltas } from '../domain/balance';
import { gradeCount, statusAfterCount } from '../domain/count-grading';
import type { OperationOf, OperationResult, StockOperation } from '../schemas/stock';
import { clientOf, type Pool, type Sql } from './client';
import type { Db } from './connection';
import { CHECK_VIOLATION, NUMERIC_OUT_OF_RANGE, pgErrorOf, StockRefusal, UNIQUE_VIOLATION, violatedConstraint } from './errors';
import {
  addToBalance,
  clearCountFlag,
  expiresAtIso,
  findPlace,
  lockBalance,
  record,
  reserveStatement,
  setCounted,
  takeFromAvailable,
  type Balance,
  type Change,
  type Place,
} from './ledger';
import { negativeNotAllowed, outOfRange, outOfRangeSomewhere, refusalAt, type PlaceState } from './ledger-refusals';
import { firstUse, keyed, replay, type Keyed } from './ledger-requests';

export { claimedRequestHash, operationRequestHash } from './ledger-requests';

/** SQLSTATE 22003: a figure does not fit its column (an integer bucket or change overflowed). */

/**
 * Applies one stock operation atomically: changes the balances, writes the ledger movements, an
 * audit row and the result under the operation's idempotency key. A second call with the same key
 * changes nothing and returns the first result; the same key with a different request is refused.
 *
 * The key is claimed last, by the statement that writes the ledger: the result is written once,
 * and a hot balance row stays locked for as short a time as possible. A concurrent first use of
 * the same key makes the later attempt fail on a unique index (or be refused, having waited for
 * the first to take the last units); it has then written nothing and is answered from the key.
 *
 * Locks are always taken in one order, so two attempts cannot deadlock: balance rows (by location
 * id), then the rows under the key: reservations, cycle_counts, adjustments, stock_operations,
 * stock_movements.
 *
 * A figure that would leave the range of a balance (see domain/balance.ts) is refused as
 * `quantity_out_of_range`, never left to fail in the database.
 */
export async function applyStockOperation(db: Db, op: StockOperation): Promise<OperationResult> {
  const pool = clientOf(db);
  const request = keyed(op);
  try {
    return op.kind === 'reserve' ? await reserve(pool, request as Keyed<OperationOf<'reserve'>>) : await inTransaction(pool, request as Keyed<NotReserve>);
  } catch (error) {
    const first = couldBeKeyInUse(error) ? await firstUse(pool, op.idempotencyKey) : undefined;
    if (first) return replay(request, first);
    throw await asRefusal(pool, error, op);
  }
}

/**
 * Whether a failure may come from the key's first use running alongside: a unique index on the key,
 * or a refusal of stock or of a reservation that the first use had just taken. Unknown SKUs and
 * locations are reported before the key is looked at, as they always were.
 */
function couldBeKeyInUse(error: unknown): boolean {
  if (error instanceof StockRefusal) {
    return error.code !== 'unknown_sku' && error.code !== 'unknown_location' && error.code !== 'idempotency_conflict';
  }
  const code = pgErrorOf(error)?.code;
  return code === UNIQUE_VIOLATION || code === CHECK_VIOLATION;
}

/** The hot path: one statement (see reserveStatement). If nothing was reserved it says why. */
async function reserve(pool: Pool, request: Keyed<OperationOf<'reserve'>>): Promise<OperationResult> {
  const [reserved] = await reserveStatement(pool, request);
  if (reserved) return reserved.result;
  const { sku, location, quantity } = request.op;
  throw await takeRefusal(pool, await findPlace(pool, sku, location), quantity);
}

type NotReserve = Exclude<StockOperation, { kind: 'reserve' }>;

/** Every other kind: a short transaction whose last statement claims the key and records the change. */
function inTransaction(pool: Pool, request: Keyed<NotReserve>): Promise<OperationResult> {
  const { op } = request;
  return pool.begin(async (tx) => {
    const [first, place] = await Promise.all([
      firstUse(tx, op.idempotencyKey),
      'sku' in op && 'location' in op ? findPlace(tx, op.sku, op.location) : undefined,
    ]);
    if (first) return replay(request, first);
    return record(tx, request, await apply(tx, op, place));
  });
}

function apply(tx: Sql, op: NotReserve, place: Place | undefined): Promise<Change> {
  const at = () => place as Place;
  switch (op.kind) {
    case 'receive':
    case 'adjust':
      return move(tx, op, at());
    case 'issue':
      return issue(tx, op, at());
    case 'release':
      return settleReservation(tx, op, 'active', op.outcome, { reserved: -1 });
    case 'commit':
      return settleReservation(tx, op, 'active', 'committed', { reserved: -1, committed: 1 });
    case 'ship':
      return settleReservation(tx, op, 'committed', 'issued', { committed: -1, onHand: -1 });
    case 'unpick':
      return settleReservation(tx, op, 'committed', 'released', { committed: -1 });
    case 'transfer':
      return transfer(tx, op);
    case 'set_incoming':
    case 'set_on_hand':
    case 'expect_incoming':
    case 'receive_incoming':
    case 'cancel_incoming':
      return set(tx, op, at());
    case 'cycle_count':
      return cycleCount(tx, op, at());
    case 'resolve_count_flag':
      return resolveCountFlag(tx, at());
  }
}

/** Receipts and adjustments: an amount added to on hand (an adjustment's also kept with its reason). */
async function move(tx: Sql, op: OperationOf<'receive' | 'adjust'>, place: Place): Promise<Change> {
  const deltas = movementOf(op);
  const balance = await addToBalance(tx, place, deltas);
  // Only once the balance row is locked: rows under the key come after balance rows (see applyStockOperation).
  if (op.kind === 'adjust') await insertAdjustment(tx, op, place, op.delta, op.reasonCode, op.note, op.evidence);
  return { movements: [{ place, deltas, reasonCode: movementReason(op) }], balances: [balance] };
}

async function issue(tx: Sql, op: OperationOf<'issue'>, place: Place): Promise<Change> {
  return { movements: [{ place, deltas: movementOf(op) }], balances: [await take(tx, place, op.quantity)] };
}

/** Takes from available (see takeFromAvailable), or says why it cannot. */
async function take(tx: Sql, place: Place, quantity: number): Promise<Balance> {
  const balance = await takeFromAvailable(tx, place, quantity);
  if (balance) return balance;
  throw await takeRefusal(tx, place, quantity);
}

/**
 * Moves a reservation along its life (release, expire, commit, ship, unpick). The conditional update on
 * the reservation's status is what makes two racing settlements of one reservation safe.
 */
async function settleReservation(
  tx: Sql,
  op: OperationOf<'release' | 'commit' | 'ship' | 'unpick'>,
  from: 'active' | 'committed',
  to: 'released' | 'expired' | 'committed' | 'issued',
  perUnit: Deltas,
): Promise<Change> {
  const [settled] = await tx<(Place & { quantity: number; status: string; expiresAt: string })[]>`
    UPDATE reservations r
    SET status = ${to}, updated_at = now()
    FROM variants v, locations l
    WHERE r.idempotency_key = ${op.reservationKey} AND r.status = ${from} AND v.id = r.variant_id AND l.id = r.location_id
    RETURNING v.sku, l.code AS location, r.variant_id AS "variantId", r.location_id AS "locationId",
              v.allow_negative AS "allowNegative", r.quantity, r.status, ${expiresAtIso(tx)} AS "expiresAt"`;
  if (!settled) throw await settleRefusal(tx, op, from);
  const { quantity, status, expiresAt, ...place } = settled;
  const deltas = scale(perUnit, quantity);
  return {
    movements: [{ place, deltas }],
    balances: [await addToBalance(tx, place, deltas)],
    reservation: { key: op.reservationKey, status, quantity, expiresAt },
  };
}

async function settleRefusal(tx: Sql, op: OperationOf<'release' | 'commit' | 'ship' | 'unpick'>, from: 'active' | 'committed'): Promise<StockRefusal> {
  const [existing] = await tx<{ status: string }[]>`SELECT status FROM reservations WHERE idempotency_key = ${op.reservationKey}`;
  if (!existing) {
    return new StockRefusal('unknown_reservation', `no reservation was made with key "${op.reservationKey}"`, 'reservationKey');
  }
  return new StockRefusal(
    from === 'active' ? 'reservation_not_active' : 'reservation_not_committed',
    `reservation "${op.reservationKey}" is ${existing.status}; ${op.kind} needs it ${from}`,
    'reservationKey',
  );
}

async function transfer(tx: Sql, op: OperationOf<'transfer'>): Promise<Change> {
  const [source, destination] = await Promise.all([findPlace(tx, op.sku, op.from, 'from'), findPlace(tx, op.sku, op.to, 'to')]);
  const put = () => addToBalance(tx, destination, { onHand: op.quantity });
  // Lock in a fixed order so two opposite transfers cannot deadlock.
  let sourceBalance: Balance;
  let destinationBalance: Balance;
  if (source.locationId < destination.locationId) {
    sourceBalance = await take(tx, source, op.quantity);
    destinationBalance = await put();
  } else {
    destinationBalance = await put();
    sourceBalance = await take(tx, source, op.quantity);
  }
  return {
    movements: [
      { place: source, deltas: { onHand: -op.quantity } },
      { place: destination, deltas: { onHand: op.quantity } },
    ],
    balances: [sourceBalance, destinationBalance],
  };
}

/**
 * A change that depends on what the balance holds: a figure someone else is the authority for (on
 * hand from a supplier; the change is the difference), or a purchase order's incoming (never taken
 * below zero). The row is locked first.
 */
async function set(tx: Sql, op: OperationOf<'set_incoming' | 'set_on_hand' | 'expect_incoming' | 'receive_incoming' | 'cancel_incoming'>, place: Place): Promise<Change> {
  const current = await lockBalance(tx, place);
  const deltas = deltasOf(op, current);
  if (!changesSomething(deltas)) return { movements: [], balances: [current] };
  return { movements: [{ place, deltas, reasonCode: movementReason(op) }], balances: [await addToBalance(tx, place, deltas)] };
}

async function cycleCount(tx: Sql, op: OperationOf<'cycle_count'>, place: Place): Promise<Change> {
  const current = await lockBalance(tx, place);
  const expected = current.onHand;
  const { variance, variancePct, outcome } = gradeCount(expected, op.counted);
  const [counted] = await Promise.all([
    setCounted(tx, place, op.counted, statusAfterCount(current.countStatus, outcome)),
    tx`
      INSERT INTO cycle_counts (idempotency_key, variant_id, location_id, expected, counted, variance, variance_pct, outcome, actor)
      VALUES (${op.idempotencyKey}, ${place.variantId}, ${place.locationId}, ${expected}, ${op.counted}, ${variance},
              ${variancePct}, ${outcome}, ${op.actor})`,
    variance !== 0 &&
      insertAdjustment(tx, op, place, variance, 'count_variance', `cycle count: expected ${expected}, counted ${op.counted}`),
  ]);
  return {
    movements: variance === 0 ? [] : [{ place, deltas: { onHand: variance }, reasonCode: movementReason(op) }],
    balances: [counted],
    cycleCount: { expected, counted: op.counted, variance, variancePct, outcome },
  };
}

async function resolveCountFlag(tx: Sql, place: Place): Promise<Change> {
  return { movements: [], balances: [await clearCountFlag(tx, place)] };
}

function insertAdjustment(
  tx: Sql,
  op: OperationOf<'adjust' | 'cycle_count'>,
  place: Place,
  delta: number,
  reasonCode: string,
  note: string | undefined,
  evidence?: string,
) {
  return tx`
    INSERT INTO adjustments (idempotency_key, variant_id, location_id, delta, reason_code, note, evidence, actor)
    VALUES (${op.idempotencyKey}, ${place.variantId}, ${place.locationId}, ${delta}, ${reasonCode}, ${note ?? null},
            ${evidence ?? null}, ${op.actor})`;
}

/** Resolves a SKU and a location code in one round trip, saying which one is unknown. */
export function locate(db: Db, sku: string, location: string, locationField = 'location'): Promise<Place> {
  return findPlace(clientOf(db), sku, location, locationField);
}

/** Why a place cannot give the quantity: archived (SKU or location), blocked by a count, or not enough available. */
export async function takeRefusal(sql: Sql, place: Place, quantity: number): Promise<StockRefusal> {
  const [current] = await sql<PlaceState[]>`
    SELECT coalesce(b.available, 0) AS available, b.count_status AS "countStatus", v.archived_at IS NOT NULL AS archived,
           (SELECT archived_at IS NOT NULL FROM locations WHERE id = ${place.locationId}) AS "locationArchived"
    FROM variants v LEFT JOIN stock_balances b ON b.variant_id = v.id AND b.location_id = ${place.locationId}
    WHERE v.id = ${place.variantId}`;
  return refusalAt(current ?? { available: 0, countStatus: null, archived: false, locationArchived: false }, place, quantity);
}

function scale(perUnit: Deltas, quantity: number): Deltas {
  return Object.fromEntries(Object.entries(perUnit).map(([bucket, sign]) => [bucket, sign * quantity]));
}

async function asRefusal(sql: Sql, error: unknown, op: StockOperation): Promise<unknown> {
  if (violatedConstraint(error) === 'stock_balances_on_hand_policy') return negativeNotAllowed(op);
  if (pgErrorOf(error)?.code === NUMERIC_OUT_OF_RANGE) return rangeRefusal(sql, op);
  return error;
}

/**
 * Postgres refused a figure as out of range (an integer column overflowed): read the balances
 * back and say which figure of which balance it was. The statement changed nothing.
 */
async function rangeRefusal(sql: Sql, op: StockOperation): Promise<StockRefusal> {
  for (const { sku, location, deltas } of changesAt(op)) {
    const [current] = await sql<Buckets[]>`
      SELECT b.on_hand AS "onHand", b.reserved, b.committed, b.incoming, b.count_status AS "countStatus"
      FROM stock_balances b JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id
      WHERE v.sku = ${sku} AND l.code = ${location}`;
    const breach = current && rangeBreach(current, deltas(current));
    if (breach) return outOfRange(op, breach, { sku, location });
  }
  return outOfRangeSomewhere(op);
}

/** The balances an operation changes by location, and how, given what each holds. */
function changesAt(op: StockOperation): { sku: string; location: string; deltas: (current: Buckets) => Deltas }[] {
  switch (op.kind) {
    case 'transfer':
      return [
        { sku: op.sku, location: op.from, deltas: () => ({ onHand: -op.quantity }) },
        { sku: op.sku, location: op.to, deltas: () => ({ onHand: op.quantity }) },
      ];
    case 'receive':
    case 'issue':
    case 'reserve':
    case 'adjust':
    case 'set_on_hand':
    case 'set_incoming':
    case 'cycle_count':
    case 'expect_incoming':
    case 'receive_incoming':
    case 'cancel_incoming':
      return [{ sku: op.sku, location: op.location, deltas: (current) => deltasOf(op, current) }];
    default:
      return [];
  }
}
