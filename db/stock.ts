import type postgres from 'postgres';
import type { CountStatus, OperationOf, OperationResult, StockOperation } from '../schemas/stock';
import { canonicalJson, sha256 } from './canonical';
import type { Db } from './connection';
import { CHECK_VIOLATION, pgErrorOf, StockRefusal, UNIQUE_VIOLATION, violatedConstraint } from './errors';

/** Variance (as a share of the expected on-hand) above which a SKU is flagged, then stopped selling. */
export const COUNT_INVESTIGATE_PCT = 5;
export const COUNT_BLOCK_PCT = 10;

/** The pool, which can open transactions. */
type Pool = postgres.Sql;
/** Anything that runs queries: the pool or an open transaction. */
type Sql = postgres.ISql;

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

type Balance = OperationResult['balances'][number];

interface Movement {
  place: Place;
  deltas: Deltas;
  reasonCode?: string;
}

/** What an operation did to the stock, before it is recorded under its key. */
interface Change {
  movements: Movement[];
  balances: Balance[];
  reservation?: OperationResult['reservation'];
  cycleCount?: OperationResult['cycleCount'];
}

/** An operation with the request it is keyed by: everything but who sent it, as canonical JSON, and its hash. */
interface Keyed<Op extends StockOperation = StockOperation> {
  op: Op;
  request: string;
  requestHash: string;
}

/** What a key's first use left: the request it was for and the result it got. */
interface FirstUse {
  requestHash: string;
  kind: string;
  result: OperationResult;
}

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
 */
export async function applyStockOperation(db: Db, op: StockOperation): Promise<OperationResult> {
  const pool = clientOf(db);
  const request = requestJson(op);
  const requestHash = sha256(request);
  try {
    return op.kind === 'reserve'
      ? await reserve(pool, { op, request, requestHash })
      : await inTransaction(pool, { op, request, requestHash });
  } catch (error) {
    const first = couldBeKeyInUse(error) ? await firstUse(pool, op.idempotencyKey) : undefined;
    if (first) return replay(op, requestHash, first);
    throw asRefusal(error, op);
  }
}

/** Identifies a request independent of key order and of who sent it (a retry may come from another process). */
export function operationRequestHash(op: StockOperation): string {
  return sha256(requestJson(op));
}

function requestJson(op: StockOperation): string {
  const { actor: _actor, ...request } = op;
  return canonicalJson(request);
}

/** The request hash already claimed for a key, if any; lets the API refuse a conflicting reuse up front. */
export async function claimedRequestHash(db: Db, idempotencyKey: string): Promise<string | undefined> {
  return (await firstUse(clientOf(db), idempotencyKey))?.requestHash;
}

/**
 * The postgres.js client under Drizzle (drizzle-orm/postgres-js sets `$client`; the Db type leaves
 * it out). Queries on it are prepared and, within a transaction, pipelined. Drizzle has set it to
 * send jsonb parameters as the JSON text they are given, which is how this module passes them.
 */
function clientOf(db: Db): Pool {
  return (db as Db & { $client: Pool }).$client;
}

async function firstUse(sql: Sql, idempotencyKey: string): Promise<FirstUse | undefined> {
  const [first] = await sql<FirstUse[]>`
    SELECT request_hash AS "requestHash", kind, result FROM stock_operations WHERE idempotency_key = ${idempotencyKey}`;
  return first;
}

function replay(op: StockOperation, requestHash: string, first: FirstUse): OperationResult {
  if (first.requestHash !== requestHash) {
    throw new StockRefusal(
      'idempotency_conflict',
      `idempotency key "${op.idempotencyKey}" was already used for a different ${first.kind} request`,
      'idempotencyKey',
    );
  }
  return { ...first.result, replayed: true };
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

/**
 * The hot path, in one statement and no explicit transaction: place, availability check, balance
 * update, reservation, operation with its result, movement and audit row commit together, and the
 * balance row is unlocked as soon as the statement ends. If nothing was reserved it says why.
 */
async function reserve(pool: Pool, { op, request, requestHash }: Keyed<OperationOf<'reserve'>>): Promise<OperationResult> {
  const { idempotencyKey: key, sku, location, quantity } = op;
  const [reserved] = await pool<{ result: OperationResult }[]>`
    WITH place AS (
      SELECT v.id AS variant_id, v.allow_negative, l.id AS location_id
      FROM variants v, locations l
      WHERE v.sku = ${sku} AND l.code = ${location}
        AND NOT EXISTS (SELECT FROM stock_operations WHERE idempotency_key = ${key})
    ), taken AS (
      UPDATE stock_balances b
      SET reserved = b.reserved + ${quantity}, updated_at = now()
      FROM place p
      WHERE b.variant_id = p.variant_id AND b.location_id = p.location_id
        AND (p.allow_negative OR b.available >= ${quantity})
      RETURNING b.variant_id, b.location_id, ${balanceView(pool, sku, location)} AS balance
    ), reservation AS (
      INSERT INTO reservations (idempotency_key, variant_id, location_id, quantity, order_ref, expires_at)
      SELECT ${key}, variant_id, location_id, ${quantity}, ${op.orderRef ?? null}, now() + make_interval(secs => ${op.ttlSeconds})
      FROM taken
      RETURNING status, quantity, ${expiresAtIso(pool)} AS expires_at
    ), operation AS (
      INSERT INTO stock_operations (idempotency_key, kind, request_hash, actor, result)
      SELECT ${key}, 'reserve', ${requestHash}, ${op.actor}, jsonb_build_object(
        'idempotencyKey', ${key}::text, 'kind', 'reserve', 'replayed', false, 'movements', 1,
        'balances', jsonb_build_array(t.balance),
        'reservation', jsonb_build_object('key', ${key}::text, 'status', r.status, 'quantity', r.quantity, 'expiresAt', r.expires_at))
      FROM taken t, reservation r
      RETURNING id, result
    ), movement AS (
      INSERT INTO stock_movements (operation_id, idempotency_key, variant_id, location_id, kind, delta_reserved, source_ref, actor)
      SELECT o.id, ${key}, t.variant_id, t.location_id, 'reserve', ${quantity}, ${op.sourceRef ?? null}, ${op.actor}
      FROM operation o, taken t
    ), audit AS (${auditRow(pool, op, request)})
    SELECT result FROM operation`;
  if (reserved) return reserved.result;
  throw await takeRefusal(pool, await findPlace(pool, sku, location), quantity);
}

type NotReserve = Exclude<StockOperation, { kind: 'reserve' }>;

/** Every other kind: a short transaction whose last statement claims the key and records the change. */
function inTransaction(pool: Pool, keyed: Keyed<NotReserve>): Promise<OperationResult> {
  const { op } = keyed;
  return pool.begin(async (tx) => {
    const [first, place] = await Promise.all([
      firstUse(tx, op.idempotencyKey),
      'sku' in op && 'location' in op ? findPlace(tx, op.sku, op.location) : undefined,
    ]);
    if (first) return replay(op, keyed.requestHash, first);
    return record(tx, keyed, await apply(tx, op, place));
  });
}

function apply(tx: Sql, op: NotReserve, place: Place | undefined): Promise<Change> {
  const at = () => place as Place;
  switch (op.kind) {
    case 'receive':
      return receive(tx, op, at());
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
    case 'adjust':
      return adjust(tx, op, at());
    case 'transfer':
      return transfer(tx, op);
    case 'set_incoming':
      return setIncoming(tx, op, at());
    case 'set_on_hand':
      return setOnHand(tx, op, at());
    case 'cycle_count':
      return cycleCount(tx, op, at());
    case 'resolve_count_flag':
      return resolveCountFlag(tx, at());
  }
}

/**
 * Claims the key with the operation and its result, and writes the movements and the audit row,
 * in one statement. A key used meanwhile fails it on the unique index, undoing the whole transaction.
 */
async function record(tx: Sql, { op, request, requestHash }: Keyed, change: Change): Promise<OperationResult> {
  const { movements, ...reported } = change;
  const result: OperationResult = { idempotencyKey: op.idempotencyKey, kind: op.kind, replayed: false, movements: movements.length, ...reported };
  await tx`
    WITH operation AS (
      INSERT INTO stock_operations (idempotency_key, kind, request_hash, actor, result)
      VALUES (${op.idempotencyKey}, ${op.kind}, ${requestHash}, ${op.actor}, ${JSON.stringify(result)}::jsonb)
      RETURNING id, result
    ), movement AS (
      INSERT INTO stock_movements (operation_id, idempotency_key, kind, source_ref, actor, variant_id, location_id,
                                   delta_on_hand, delta_reserved, delta_committed, delta_incoming, reason_code)
      SELECT o.id, ${op.idempotencyKey}, ${op.kind}, ${op.sourceRef ?? null}, ${op.actor}, m.variant_id, m.location_id,
             m.delta_on_hand, m.delta_reserved, m.delta_committed, m.delta_incoming, m.reason_code
      FROM operation o, jsonb_to_recordset(${ledgerRows(movements)}::jsonb) AS m(variant_id int, location_id int,
        delta_on_hand int, delta_reserved int, delta_committed int, delta_incoming int, reason_code text)
    )
    ${auditRow(tx, op, request)}`;
  return result;
}

function ledgerRows(movements: Movement[]): string {
  return JSON.stringify(
    movements.map(({ place, deltas, reasonCode }) => ({
      variant_id: place.variantId,
      location_id: place.locationId,
      delta_on_hand: deltas.onHand ?? 0,
      delta_reserved: deltas.reserved ?? 0,
      delta_committed: deltas.committed ?? 0,
      delta_incoming: deltas.incoming ?? 0,
      reason_code: reasonCode ?? null,
    })),
  );
}

/** The audit row, written from the `operation` row of the statement it is part of. */
function auditRow(sql: Sql, op: StockOperation, request: string) {
  return sql`
    INSERT INTO audit_log (actor, action, subject_type, subject_id, idempotency_key, details)
    SELECT ${op.actor}, ${`stock.${op.kind}`}, 'stock_operation', ${op.idempotencyKey}, ${op.idempotencyKey},
           jsonb_build_object('request', ${request}::jsonb, 'movements', result->'movements', 'balances', result->'balances')
    FROM operation`;
}

async function receive(tx: Sql, op: OperationOf<'receive'>, place: Place): Promise<Change> {
  const deltas = { onHand: op.quantity };
  return { movements: [{ place, deltas }], balances: [await addToBalance(tx, place, deltas)] };
}

async function issue(tx: Sql, op: OperationOf<'issue'>, place: Place): Promise<Change> {
  const balance = await takeFromAvailable(tx, place, op.quantity);
  return { movements: [{ place, deltas: { onHand: -op.quantity } }], balances: [balance] };
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

async function adjust(tx: Sql, op: OperationOf<'adjust'>, place: Place): Promise<Change> {
  const deltas = { onHand: op.delta };
  const balance = await addToBalance(tx, place, deltas);
  // Only once the balance row is locked: rows under the key come after balance rows (see applyStockOperation).
  await insertAdjustment(tx, op, place, op.delta, op.reasonCode, op.note, op.evidence);
  return { movements: [{ place, deltas, reasonCode: op.reasonCode }], balances: [balance] };
}

async function transfer(tx: Sql, op: OperationOf<'transfer'>): Promise<Change> {
  const [source, destination] = await Promise.all([findPlace(tx, op.sku, op.from, 'from'), findPlace(tx, op.sku, op.to, 'to')]);
  // Lock in a fixed order so two opposite transfers cannot deadlock.
  let sourceBalance: Balance;
  let destinationBalance: Balance;
  if (source.locationId < destination.locationId) {
    sourceBalance = await takeFromAvailable(tx, source, op.quantity);
    destinationBalance = await addToBalance(tx, destination, { onHand: op.quantity });
  } else {
    destinationBalance = await addToBalance(tx, destination, { onHand: op.quantity });
    sourceBalance = await takeFromAvailable(tx, source, op.quantity);
  }
  return {
    movements: [
      { place: source, deltas: { onHand: -op.quantity } },
      { place: destination, deltas: { onHand: op.quantity } },
    ],
    balances: [sourceBalance, destinationBalance],
  };
}

async function setIncoming(tx: Sql, op: OperationOf<'set_incoming'>, place: Place): Promise<Change> {
  const current = await lockBalance(tx, place);
  const delta = op.quantity - current.incoming;
  if (delta === 0) return { movements: [], balances: [current] };
  const deltas = { incoming: delta };
  return { movements: [{ place, deltas }], balances: [await addToBalance(tx, place, deltas)] };
}

async function setOnHand(tx: Sql, op: OperationOf<'set_on_hand'>, place: Place): Promise<Change> {
  const current = await lockBalance(tx, place);
  const delta = op.quantity - current.onHand;
  if (delta === 0) return { movements: [], balances: [current] };
  const deltas = { onHand: delta };
  return { movements: [{ place, deltas, reasonCode: 'supplier_feed' }], balances: [await addToBalance(tx, place, deltas)] };
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

async function cycleCount(tx: Sql, op: OperationOf<'cycle_count'>, place: Place): Promise<Change> {
  const current = await lockBalance(tx, place);
  const expected = current.onHand;
  const variance = op.counted - expected;
  const variancePct = variancePercent(expected, op.counted);
  const outcome = countOutcome(variancePct);
  // A clean recount does not lift an earlier flag: someone has to resolve it on purpose.
  const countStatus = SEVERITY[outcome] > SEVERITY[current.countStatus] ? outcome : current.countStatus;
  const [[counted]] = await Promise.all([
    tx<{ balance: Balance }[]>`
      UPDATE stock_balances SET on_hand = ${op.counted}, count_status = ${countStatus}, updated_at = now()
      WHERE variant_id = ${place.variantId} AND location_id = ${place.locationId}
      RETURNING ${balanceView(tx, place.sku, place.location)} AS balance`,
    tx`
      INSERT INTO cycle_counts (idempotency_key, variant_id, location_id, expected, counted, variance, variance_pct, outcome, actor)
      VALUES (${op.idempotencyKey}, ${place.variantId}, ${place.locationId}, ${expected}, ${op.counted}, ${variance},
              ${variancePct}, ${outcome}, ${op.actor})`,
    variance !== 0 &&
      insertAdjustment(tx, op, place, variance, 'count_variance', `cycle count: expected ${expected}, counted ${op.counted}`),
  ]);
  return {
    movements: variance === 0 ? [] : [{ place, deltas: { onHand: variance }, reasonCode: 'count_variance' }],
    balances: [counted.balance],
    cycleCount: { expected, counted: op.counted, variance, variancePct, outcome },
  };
}

async function resolveCountFlag(tx: Sql, place: Place): Promise<Change> {
  const balance = await changeBalance(
    tx,
    place,
    () => tx<{ balance: Balance }[]>`
      UPDATE stock_balances SET count_status = 'ok', updated_at = now()
      WHERE variant_id = ${place.variantId} AND location_id = ${place.locationId}
      RETURNING ${balanceView(tx, place.sku, place.location)} AS balance`,
  );
  return { movements: [], balances: [balance] };
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

async function findPlace(sql: Sql, sku: string, location: string, locationField = 'location'): Promise<Place> {
  const [found] = await sql<{ variantId: number | null; allowNegative: boolean | null; locationId: number | null }[]>`
    SELECT v.id AS "variantId", v.allow_negative AS "allowNegative", l.id AS "locationId"
    FROM (SELECT) AS one
    LEFT JOIN variants v ON v.sku = ${sku}
    LEFT JOIN locations l ON l.code = ${location}`;
  if (found.variantId === null) throw new StockRefusal('unknown_sku', `unknown SKU "${sku}"`, 'sku');
  if (found.locationId === null) {
    throw new StockRefusal('unknown_location', `unknown location "${location}"`, locationField);
  }
  return { sku, location, variantId: found.variantId, locationId: found.locationId, allowNegative: Boolean(found.allowNegative) };
}

/** A balance row as the result reports it; the columns are stock_balances'. */
function balanceView(sql: Sql, sku: string, location: string) {
  return sql`jsonb_build_object(
    'sku', ${sku}::text, 'location', ${location}::text, 'onHand', on_hand, 'reserved', reserved, 'committed', committed,
    'incoming', incoming, 'available', available, 'countStatus', count_status)`;
}

/** A reservation's expires_at as the result has always carried it: JavaScript's toISOString(), in UTC to the millisecond. */
function expiresAtIso(sql: Sql) {
  return sql`to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * Adds to buckets, creating the balance row on first use. The table's CHECKs refuse a negative
 * result.
 */
function addToBalance(tx: Sql, place: Place, d: Deltas): Promise<Balance> {
  return changeBalance(
    tx,
    place,
    () => tx<{ balance: Balance }[]>`
      UPDATE stock_balances
      SET on_hand = on_hand + ${d.onHand ?? 0}, reserved = reserved + ${d.reserved ?? 0},
          committed = committed + ${d.committed ?? 0}, incoming = incoming + ${d.incoming ?? 0}, updated_at = now()
      WHERE variant_id = ${place.variantId} AND location_id = ${place.locationId}
      RETURNING ${balanceView(tx, place.sku, place.location)} AS balance`,
  );
}

/**
 * Runs an update of the balance row, creating the row first if it is missing. Update first (the
 * row nearly always exists); a missing row is created at zero and then updated, because an upsert
 * would check its proposed insert row against the CHECKs before noticing the conflict.
 */
async function changeBalance(tx: Sql, place: Place, update: () => Promise<{ balance: Balance }[]>): Promise<Balance> {
  const [row] = await update();
  if (row) return row.balance;
  await tx`
    INSERT INTO stock_balances (variant_id, location_id, allow_negative)
    VALUES (${place.variantId}, ${place.locationId}, ${place.allowNegative})
    ON CONFLICT (variant_id, location_id) DO NOTHING`;
  const [created] = await update();
  return created.balance;
}

/**
 * The no-oversell guarantee: the availability check and the change are one conditional UPDATE,
 * so concurrent takers serialise on the row lock and each sees the stock the previous one left.
 */
async function takeFromAvailable(tx: Sql, place: Place, quantity: number): Promise<Balance> {
  const [taken] = await tx<{ balance: Balance }[]>`
    UPDATE stock_balances
    SET on_hand = on_hand - ${quantity}, updated_at = now()
    WHERE variant_id = ${place.variantId} AND location_id = ${place.locationId}
      AND (${place.allowNegative} OR available >= ${quantity})
    RETURNING ${balanceView(tx, place.sku, place.location)} AS balance`;
  if (taken) return taken.balance;
  throw await takeRefusal(tx, place, quantity);
}

async function takeRefusal(sql: Sql, place: Place, quantity: number): Promise<StockRefusal> {
  const [current] = await sql<{ available: number; countStatus: string }[]>`
    SELECT available, count_status AS "countStatus" FROM stock_balances
    WHERE variant_id = ${place.variantId} AND location_id = ${place.locationId}`;
  if (current?.countStatus === 'blocked') {
    return new StockRefusal(
      'selling_blocked',
      `${place.sku} at ${place.location} is blocked after a cycle count variance; resolve the count first`,
      'sku',
    );
  }
  return new StockRefusal(
    'insufficient_stock',
    `only ${current?.available ?? 0} of ${place.sku} available at ${place.location}, ${quantity} requested`,
    'quantity',
  );
}

/** Takes the row lock (creating the row if needed) so a read-then-set cannot race another writer. */
function lockBalance(tx: Sql, place: Place): Promise<Balance> {
  return addToBalance(tx, place, {});
}

function scale(perUnit: Deltas, quantity: number): Deltas {
  return Object.fromEntries(Object.entries(perUnit).map(([bucket, sign]) => [bucket, sign * quantity]));
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
