import { availableOf, type Buckets, type Deltas } from '../domain/balance';
import type { OperationOf, OperationResult } from '../schemas/stock';
import { isoAt, isoIn, type Sql } from './client';
import type { Keyed } from './ledger-requests';
import { StockRefusal } from './errors';

// The ledger's writes: every statement that changes a stock balance, claims an operation's
// idempotency key, writes a ledger movement or the audit row of a stock operation is here and
// nowhere else. db/stock.ts (one operation) and db/ledger-batch.ts (many in one transaction)
// decide what an operation does; these statements record it: the same rows, the same request
// hash, the same result and audit row for both.

export interface Place {
  sku: string;
  location: string;
  variantId: number;
  locationId: number;
  allowNegative: boolean;
}

export type Balance = OperationResult['balances'][number];

export interface Movement {
  place: Place;
  deltas: Deltas;
  reasonCode?: string;
}

/** What an operation did to the stock, before it is recorded under its key. */
export interface Change {
  movements: Movement[];
  balances: Balance[];
  reservation?: OperationResult['reservation'];
  cycleCount?: OperationResult['cycleCount'];
}

/** A balance row locked for a batch: where it is and what it holds. */
/** A balance row locked for a batch, with whether its SKU or its location is archived (a reservation's refusals). */
export type LockedBalance = Place & Buckets & { archived: boolean; locationArchived: boolean };

/** One operation of a batch as recorded: its key and result, and the movement it made, if any. */
export interface BatchRecord {
  keyed: Keyed;
  result: OperationResult;
  movement?: Movement;
}

/** Resolves a SKU and a location code in one round trip, saying which one is unknown. */
export async function findPlace(sql: Sql, sku: string, location: string, locationField = 'location'): Promise<Place> {
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

/**
 * A reservation in one statement and no explicit transaction: place, availability check, balance
 * update, reservation, operation with its result, movement and audit row commit together, and the
 * balance row is unlocked as soon as the statement ends. No row when nothing was reserved (no stock,
 * unknown or archived SKU, unknown or archived location, or the key already used). The reservation benchmark sends this very
 * statement as its baseline.
 */
export function reserveStatement(sql: Sql, { op, request, requestHash }: Keyed<OperationOf<'reserve'>>) {
  const { idempotencyKey: key, sku, location, quantity } = op;
  return sql<{ result: OperationResult }[]>`
    WITH place AS (
      SELECT v.id AS variant_id, v.allow_negative, l.id AS location_id
      FROM variants v, locations l
      WHERE v.sku = ${sku} AND l.code = ${location} AND v.archived_at IS NULL AND l.archived_at IS NULL
        AND NOT EXISTS (SELECT FROM stock_operations WHERE idempotency_key = ${key})
    ), taken AS (
      UPDATE stock_balances b
      SET reserved = b.reserved + ${quantity}, updated_at = now()
      FROM place p
      WHERE b.variant_id = p.variant_id AND b.location_id = p.location_id
        AND (p.allow_negative OR b.available >= ${quantity})
      RETURNING b.variant_id, b.location_id, ${balanceView(sql, sku, location)} AS balance
    ), reservation AS (
      INSERT INTO reservations (idempotency_key, variant_id, location_id, quantity, order_ref, expires_at)
      SELECT ${key}, variant_id, location_id, ${quantity}, ${op.orderRef ?? null}, now() + make_interval(secs => ${op.ttlSeconds})
      FROM taken
      RETURNING status, quantity, ${expiresAtIso(sql)} AS expires_at
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
    ), audit AS (${auditRow(sql, { op, request })})
    SELECT result FROM operation`;
}

/**
 * Claims the key with the operation and its result, and writes the movements and the audit row,
 * in one statement. A key used meanwhile fails it on the unique index, undoing the whole transaction.
 * One operation keeps this statement rather than a batch of one (recordBatch): the larger batch
 * statement made a single receipt about a quarter slower.
 */
export async function record(tx: Sql, { op, request, requestHash }: Keyed, change: Change): Promise<OperationResult> {
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
    ${auditRow(tx, { op, request })}`;
  return result;
}

function ledgerRows(movements: Movement[]): string {
  return JSON.stringify(movements.map(movementColumns));
}

/** A movement as the columns of stock_movements it fills, besides those of its operation. */
function movementColumns({ place, deltas, reasonCode }: Movement) {
  return {
    variant_id: place.variantId,
    location_id: place.locationId,
    delta_on_hand: deltas.onHand ?? 0,
    delta_reserved: deltas.reserved ?? 0,
    delta_committed: deltas.committed ?? 0,
    delta_incoming: deltas.incoming ?? 0,
    reason_code: reasonCode ?? null,
  };
}

/** The audit row, written from the `operation` row of the statement it is part of (recordBatch builds the same). */
function auditRow(sql: Sql, { op, request }: Pick<Keyed, 'op' | 'request'>) {
  return sql`
    INSERT INTO audit_log (actor, action, subject_type, subject_id, idempotency_key, details)
    SELECT ${op.actor}, ${`stock.${op.kind}`}, 'stock_operation', ${op.idempotencyKey}, ${op.idempotencyKey},
           jsonb_build_object('request', ${request}::jsonb, 'movements', result->'movements', 'balances', result->'balances')
    FROM operation`;
}

/** A balance row as the result reports it; the columns are stock_balances'. */
function balanceView(sql: Sql, sku: string, location: string) {
  return sql`jsonb_build_object(
    'sku', ${sku}::text, 'location', ${location}::text, 'onHand', on_hand, 'reserved', reserved, 'committed', committed,
    'incoming', incoming, 'available', available, 'countStatus', count_status)`;
}

/** The same view of a balance a batch holds locked and has worked out in memory. */
export function balanceOf(balance: LockedBalance): Balance {
  const { sku, location, onHand, reserved, committed, incoming, countStatus } = balance;
  return { sku, location, onHand, reserved, committed, incoming, available: availableOf(balance), countStatus };
}

/** A reservation's expires_at as the result has always carried it: JavaScript's toISOString(), in UTC to the millisecond. */
export function expiresAtIso(sql: Sql) {
  return isoAt(sql, 'expires_at');
}

/** The expiry a reservation made in this transaction with this TTL gets (now() is the transaction's), as expiresAtIso gives it. */
export function expiryIso(sql: Sql, ttlSeconds: number) {
  return isoIn(sql, ttlSeconds);
}

/**
 * Adds to buckets, creating the balance row on first use. The table's CHECKs refuse a negative
 * result.
 */
export function addToBalance(tx: Sql, place: Place, d: Deltas): Promise<Balance> {
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

/** Takes the row lock (creating the row if needed) so a read-then-set cannot race another writer. */
export function lockBalance(tx: Sql, place: Place): Promise<Balance> {
  return addToBalance(tx, place, {});
}

/** A cycle count: on hand becomes the counted figure, with the count status it leaves. */
export async function setCounted(tx: Sql, place: Place, counted: number, countStatus: Balance['countStatus']): Promise<Balance> {
  const [row] = await tx<{ balance: Balance }[]>`
    UPDATE stock_balances SET on_hand = ${counted}, count_status = ${countStatus}, updated_at = now()
    WHERE variant_id = ${place.variantId} AND location_id = ${place.locationId}
    RETURNING ${balanceView(tx, place.sku, place.location)} AS balance`;
  return row.balance;
}

export function clearCountFlag(tx: Sql, place: Place): Promise<Balance> {
  return changeBalance(
    tx,
    place,
    () => tx<{ balance: Balance }[]>`
      UPDATE stock_balances SET count_status = 'ok', updated_at = now()
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
 * Nothing when the stock is not there.
 */
export async function takeFromAvailable(tx: Sql, place: Place, quantity: number): Promise<Balance | undefined> {
  const [taken] = await tx<{ balance: Balance }[]>`
    UPDATE stock_balances
    SET on_hand = on_hand - ${quantity}, updated_at = now()
    WHERE variant_id = ${place.variantId} AND location_id = ${place.locationId}
      AND (${place.allowNegative} OR available >= ${quantity})
    RETURNING ${balanceView(tx, place.sku, place.location)} AS balance`;
  return taken?.balance;
}

/**
 * Locks the balance rows of a batch's places, creating the missing ones at zero, in one order
 * (location, then variant) so two batches cannot deadlock; the rows come back in that order. A
 * place whose SKU or location is unknown is left out. Both statements go in one round trip.
 */
export async function lockBalances(tx: Sql, places: readonly { sku: string; location: string }[]): Promise<LockedBalance[]> {
  const skus = places.map((p) => p.sku);
  const codes = places.map((p) => p.location);
  const [, locked] = await Promise.all([
    tx`
      INSERT INTO stock_balances (variant_id, location_id, allow_negative)
      SELECT v.id, l.id, v.allow_negative
      FROM unnest(${skus}::text[], ${codes}::text[]) AS p(sku, code)
      JOIN variants v ON v.sku = p.sku JOIN locations l ON l.code = p.code
      ORDER BY l.id, v.id
      ON CONFLICT (variant_id, location_id) DO NOTHING`,
    tx<LockedBalance[]>`
      SELECT p.sku, p.code AS location, v.id AS "variantId", l.id AS "locationId", b.allow_negative AS "allowNegative",
             b.on_hand AS "onHand", b.reserved, b.committed, b.incoming, b.count_status AS "countStatus",
             v.archived_at IS NOT NULL AS archived, l.archived_at IS NOT NULL AS "locationArchived"
      FROM unnest(${skus}::text[], ${codes}::text[]) AS p(sku, code)
      JOIN variants v ON v.sku = p.sku JOIN locations l ON l.code = p.code
      JOIN stock_balances b ON b.variant_id = v.id AND b.location_id = l.id
      ORDER BY l.id, v.id
      FOR UPDATE OF b`,
  ]);
  return locked;
}

/**
 * Records a batch in one statement, each table written once: the operations with their keys and
 * results, their movements, the reservations of its reserve operations, one audit row per
 * operation (built as auditRow builds it), and the balances' final figures. The balance rows must be locked (lockBalances). The operations travel
 * as one JSON document, parsed once by Postgres: as text arrays, each result was serialised,
 * escaped as an array element and parsed again, which cost more than the rest of the statement;
 * a multi-row VALUES list costs a bind parameter per cell.
 */
export async function recordBatch(tx: Sql, records: readonly BatchRecord[], finals: readonly LockedBalance[]): Promise<void> {
  await tx`
    WITH batch AS MATERIALIZED (
      SELECT * FROM jsonb_to_recordset(${batchDocument(records)}::jsonb) AS r(
        n int, key text, kind text, request_hash text, actor text, source_ref text, request jsonb, result jsonb,
        variant_id int, location_id int, delta_on_hand int, delta_reserved int, delta_committed int, delta_incoming int, reason_code text,
        order_ref text, ttl_seconds int)
    ), reservation AS (
      INSERT INTO reservations (idempotency_key, variant_id, location_id, quantity, order_ref, expires_at)
      SELECT key, variant_id, location_id, delta_reserved, order_ref, now() + make_interval(secs => ttl_seconds)
      FROM batch WHERE kind = 'reserve' ORDER BY n
    ), operation AS (
      INSERT INTO stock_operations (idempotency_key, kind, request_hash, actor, result)
      SELECT key, kind, request_hash, actor, result FROM batch ORDER BY n
      RETURNING id, idempotency_key
    ), movement AS (
      INSERT INTO stock_movements (operation_id, idempotency_key, kind, source_ref, actor, variant_id, location_id,
                                   delta_on_hand, delta_reserved, delta_committed, delta_incoming, reason_code)
      SELECT o.id, r.key, r.kind, r.source_ref, r.actor, r.variant_id, r.location_id,
             r.delta_on_hand, r.delta_reserved, r.delta_committed, r.delta_incoming, r.reason_code
      FROM batch r JOIN operation o ON o.idempotency_key = r.key
      WHERE r.variant_id IS NOT NULL
      ORDER BY r.n
    ), audit AS (
      INSERT INTO audit_log (actor, action, subject_type, subject_id, idempotency_key, details)
      SELECT actor, 'stock.' || kind, 'stock_operation', key, key,
             jsonb_build_object('request', request, 'movements', result->'movements', 'balances', result->'balances')
      FROM batch ORDER BY n
    )
    UPDATE stock_balances b
    SET on_hand = f.on_hand, reserved = f.reserved, committed = f.committed, incoming = f.incoming, updated_at = now()
    FROM unnest(${finals.map((f) => f.variantId)}::int[], ${finals.map((f) => f.locationId)}::int[], ${finals.map((f) => f.onHand)}::int[],
                ${finals.map((f) => f.reserved)}::int[], ${finals.map((f) => f.committed)}::int[], ${finals.map((f) => f.incoming)}::int[])
      AS f(variant_id, location_id, on_hand, reserved, committed, incoming)
    WHERE b.variant_id = f.variant_id AND b.location_id = f.location_id`;
}

/**
 * One row per operation, numbered in the batch's order, with its movement's columns when it made
 * one; the request is the operation without its actor.
 */
function batchDocument(records: readonly BatchRecord[]): string {
  return JSON.stringify(
    records.map(({ keyed: { op, requestHash }, result, movement }, n) => {
      const { actor, ...request } = op;
      return {
        n,
        key: op.idempotencyKey,
        kind: op.kind,
        request_hash: requestHash,
        actor,
        source_ref: op.sourceRef,
        request,
        result,
        ...(movement && movementColumns(movement)),
        ...(op.kind === 'reserve' && { order_ref: op.orderRef, ttl_seconds: op.ttlSeconds }),
      };
    }),
  );
}

/** A reservation as a holder hands it over or extends it. */
export interface HeldReservation {
  key: string;
  sku: string;
  location: string;
  quantity: number;
  expiresAt: string;
}

/**
 * Gives a holder's active reservations to another holder (a cart's to the order it became), with
 * a new expiry, in the caller's transaction. No balance moves: the units stay reserved throughout,
 * so there is no moment when they are free. The hand-over is audited like a stock operation.
 */
export async function handOverReservations(tx: Sql, from: string, to: string, ttlSeconds: number, actor: string): Promise<HeldReservation[]> {
  const moved = await tx<HeldReservation[]>`
    UPDATE reservations r
    SET order_ref = ${to}, expires_at = now() + make_interval(secs => ${ttlSeconds}), updated_at = now()
    FROM variants v, locations l
    WHERE r.order_ref = ${from} AND r.status = 'active' AND v.id = r.variant_id AND l.id = r.location_id
    RETURNING r.idempotency_key AS key, v.sku, l.code AS location, r.quantity, ${expiresAtIso(tx)} AS "expiresAt"`;
  await auditReservations(tx, actor, 'reservation.handover', moved, { from, to });
  return moved;
}

/** Moves the expiry of a holder's active reservations (an extended cart), in the caller's transaction; audited. */
export async function extendReservations(tx: Sql, holder: string, ttlSeconds: number, actor: string): Promise<HeldReservation[]> {
  const extended = await tx<HeldReservation[]>`
    UPDATE reservations r
    SET expires_at = now() + make_interval(secs => ${ttlSeconds}), updated_at = now()
    FROM variants v, locations l
    WHERE r.order_ref = ${holder} AND r.status = 'active' AND v.id = r.variant_id AND l.id = r.location_id
    RETURNING r.idempotency_key AS key, v.sku, l.code AS location, r.quantity, ${expiresAtIso(tx)} AS "expiresAt"`;
  await auditReservations(tx, actor, 'reservation.extend', extended, { holder });
  return extended;
}

function auditReservations(tx: Sql, actor: string, action: string, held: HeldReservation[], details: Record<string, string>) {
  return tx`
    INSERT INTO audit_log (actor, action, subject_type, subject_id, details)
    SELECT ${actor}, ${action}, 'reservation', h.key, ${JSON.stringify(details)}::jsonb || jsonb_build_object('expiresAt', h.expires_at)
    FROM jsonb_to_recordset(${JSON.stringify(held.map((h) => ({ key: h.key, expires_at: h.expiresAt })))}::jsonb) AS h(key text, expires_at text)`;
}
