import { allocate, mergeLines, type Allocated } from '../domain/allocation';
import { BALANCE_MAX } from '../domain/balance';
import type { AllocationRules, OrderEvent, PlacedPart, PlacementAnswer } from '../schemas/orders';
import type { OperationResult } from '../schemas/stock';
import { canonicalJson } from './canonical';
import { clientOf, type Sql } from './client';
import type { Db } from './connection';
import { expiryIso, handOverReservations, lockBalances, reserveStatement, type Place } from './ledger';
import { NUMERIC_OUT_OF_RANGE, pgErrorOf } from './errors';
import { keyed } from './ledger-requests';
import { takeRefusal } from './stock';

type OrderPlaced = Extract<OrderEvent, { type: 'order.placed' }>;

export interface PlacementRequest {
  event: OrderPlaced;
  workflowId: string;
  /** The reservation keys, one per part (1-based), as the order's workflow commits and releases them. */
  reservationKey: (partNo: number) => string;
  ttlSeconds: number;
  actor: string;
  allocation: AllocationRules;
}

/**
 * What became of a placed event: a new one answered now, a repeat answered as the first time
 * (`delivered` says whether the first copy reached the workflow), or a repeat of the event id with
 * another event (`conflictsWith`, the stored one). An order placed before answers were stored has
 * none.
 */
export type PlacementReceipt = { isNew: boolean; delivered: boolean; answer?: PlacementAnswer } | { conflictsWith: OrderEvent };

/**
 * The checkout's answer to `order.placed`, in one transaction: the event is stored, the order
 * claimed, every part reserved through the ledger's reserve statement (in lock order, so two
 * orders cannot deadlock) and the answer stored. Any line short rolls the reservations back, and
 * a second transaction stores the event with the refusal: all or nothing. A retried request finds
 * its event and answers from the stored answer; a second `order.placed` of the same order (another
 * event id) gets the first one's answer. Nothing here waits for Temporal: the workflow is started
 * after the commit, and finds the answer (see orderPlacementOf).
 */
export async function placeOrder(db: Db, request: PlacementRequest): Promise<PlacementReceipt> {
  const pool = clientOf(db);
  try {
    return await pool.begin((tx) => place(tx, request));
  } catch (error) {
    if (!(error instanceof Shortfall)) throw error;
    return pool.begin((tx) => place(tx, request, error.answer));
  }
}

/** The stored answer of an order's placement, if it was placed through placeOrder. */
export async function orderPlacementOf(db: Db, workflowId: string): Promise<PlacementAnswer | undefined> {
  return answerOf(clientOf(db), workflowId);
}

/** Unwinds the reserving transaction; the answer is then stored on its own. */
export class Shortfall extends Error {
  constructor(readonly answer: Extract<PlacementAnswer, { status: 'rejected' }>) {
    super(answer.reason);
  }
}

async function place(tx: Sql, request: PlacementRequest, rejected?: PlacementAnswer): Promise<PlacementReceipt> {
  const { event, workflowId } = request;
  const [stored] = await tx`
    INSERT INTO order_events (channel, event_id, order_id, type, payload)
    VALUES (${event.channel}, ${event.eventId}, ${event.orderId}, ${event.type}, ${JSON.stringify(event)}::jsonb)
    ON CONFLICT (channel, event_id) DO NOTHING
    RETURNING id`;
  if (!stored) return repeated(tx, event, workflowId);
  const [claimed] = await tx<{ id: number }[]>`
    INSERT INTO order_placements (workflow_id, channel, order_id, event_id)
    VALUES (${workflowId}, ${event.channel}, ${event.orderId}, ${event.eventId})
    ON CONFLICT (workflow_id) DO NOTHING
    RETURNING id`;
  if (!claimed) return { isNew: true, delivered: false, answer: await answerOf(tx, workflowId) };
  let answer: PlacementAnswer;
  if (rejected) answer = rejected;
  else if (event.cartId) answer = await convertCart(tx, request, event.cartId);
  else {
    const recordReserved = (parts: PlacedPart[]) =>
      tx`UPDATE order_placements
         SET answer = jsonb_build_object('status', 'reserved', 'parts', ${JSON.stringify(parts)}::jsonb, 'expiresAt', ${expiryIso(tx, request.ttlSeconds)})
         WHERE id = ${claimed.id}`;
    answer = await reserveLines(tx, holdOf(request), recordReserved);
    if (answer.status === 'reserved') return { isNew: true, delivered: false, answer };
  }
  await tx`UPDATE order_placements SET answer = ${JSON.stringify(answer)}::jsonb WHERE id = ${claimed.id}`;
  return { isNew: true, delivered: false, answer };
}

function holdOf({ event, workflowId, reservationKey, ttlSeconds, actor, allocation }: PlacementRequest): HoldSpec {
  return { what: 'order', lines: event.lines, location: event.location, channel: event.channel, allocation, reservationKey, orderRef: workflowId, ttlSeconds, actor };
}

/**
 * A cart becomes the order: claimed as converted (only while held and unexpired, so an expiry or
 * a release cannot run alongside) and its reservations handed to the order in this transaction,
 * never released in between. The order's lines must be what the cart holds.
 */
async function convertCart(tx: Sql, request: PlacementRequest, cartId: string): Promise<PlacementAnswer> {
  const { event, workflowId } = request;
  const refuse = (why: string) => new Shortfall({ status: 'rejected', why: 'invalid', reason: `invalid order: cartId: ${why}` });
  const [cart] = await tx<{ parts: PlacedPart[]; workflowId: string }[]>`
    UPDATE carts SET status = 'converted', order_ref = ${workflowId}, updated_at = now()
    WHERE cart_id = ${cartId} AND status = 'held' AND expires_at > now()
    RETURNING parts, workflow_id AS "workflowId"`;
  if (!cart) throw refuse(await cartRefusal(tx, cartId));
  const wants = mergeLines(event.lines);
  const held = new Map<string, number>();
  for (const part of cart.parts) held.set(part.sku, (held.get(part.sku) ?? 0) + part.quantity);
  if (wants.length !== held.size || wants.some((w) => held.get(w.sku) !== w.quantity)) {
    throw refuse(`the lines must be what cart "${cartId}" holds: ${[...held].map(([sku, quantity]) => `${quantity} × ${sku}`).join(', ')}`);
  }
  const moved = await handOverReservations(tx, cart.workflowId, workflowId, request.ttlSeconds, request.actor);
  if (moved.length !== cart.parts.length) throw refuse(`cart "${cartId}" no longer holds all of its reservations`);
  const lineNosOf = new Map(wants.map((w) => [w.sku, w.lineNos]));
  return { status: 'reserved', parts: cart.parts.map((p) => ({ ...p, lineNos: lineNosOf.get(p.sku) ?? [] })), expiresAt: moved[0].expiresAt };
}

async function cartRefusal(tx: Sql, cartId: string): Promise<string> {
  const [cart] = await tx<{ status: string; due: boolean }[]>`SELECT status, expires_at <= now() AS due FROM carts WHERE cart_id = ${cartId}`;
  if (!cart) return `no cart "${cartId}" is held`;
  if (cart.status === 'held' && cart.due) return `the hold of cart "${cartId}" ran out`;
  return `cart "${cartId}" is ${cart.status}, not held`;
}

async function repeated(tx: Sql, event: OrderPlaced, workflowId: string): Promise<PlacementReceipt> {
  const [first] = await tx<{ payload: OrderEvent; delivered: boolean }[]>`
    SELECT payload, delivered_at IS NOT NULL AS delivered FROM order_events WHERE channel = ${event.channel} AND event_id = ${event.eventId}`;
  if (canonicalJson(first.payload) !== canonicalJson(event)) return { conflictsWith: first.payload };
  return { isNew: false, delivered: first.delivered, answer: await answerOf(tx, workflowId) };
}

async function answerOf(sql: Sql, workflowId: string): Promise<PlacementAnswer | undefined> {
  const [row] = await sql<{ answer: PlacementAnswer | null }[]>`SELECT answer FROM order_placements WHERE workflow_id = ${workflowId}`;
  return row?.answer ?? undefined;
}

type Stocked = Place & { available: number; hasBalance: boolean };

/** Lines to hold for an order or a cart: where (or, with no location, how to allocate), under which keys, for how long. */
export interface HoldSpec {
  /** What holds the lines, as refusals name it. */
  what: 'order' | 'cart';
  lines: readonly { sku: string; quantity: number }[];
  location?: string;
  channel: string;
  allocation: AllocationRules;
  /** The reservation key of each part (1-based). */
  reservationKey: (partNo: number) => string;
  /** Who holds the reservations: the order's or the cart's workflow id. */
  orderRef: string;
  ttlSeconds: number;
  actor: string;
}

/**
 * Reserves every part of the lines in the caller's transaction or throws a Shortfall (the caller
 * rolls back): lines of one SKU as their sum, allocated when no location is named, each part
 * through the ledger's reserve statement, in lock order (location, then variant) so two holders
 * cannot deadlock. Lines naming an unknown SKU or location are an answer, not a failure.
 */
export async function reserveLines(tx: Sql, spec: HoldSpec, record?: (parts: PlacedPart[]) => Promise<unknown>): Promise<PlacementAnswer> {
  const wants = mergeLines(spec.lines);
  const [stock, locationState] = await Promise.all([
    tx<Stocked[]>`
      SELECT v.sku, l.code AS location, v.id AS "variantId", l.id AS "locationId", v.allow_negative AS "allowNegative",
             coalesce(b.available, 0) AS available, b.variant_id IS NOT NULL AS "hasBalance"
      FROM variants v CROSS JOIN locations l
      LEFT JOIN stock_balances b ON b.variant_id = v.id AND b.location_id = l.id
      WHERE v.sku = ANY(${wants.map((w) => w.sku)}::text[]) AND (${spec.location ?? null}::text IS NULL OR l.code = ${spec.location ?? null})
        AND l.archived_at IS NULL`,
    spec.location === undefined
      ? ('open' as const)
      : tx<{ archived: boolean }[]>`SELECT archived_at IS NOT NULL AS archived FROM locations WHERE code = ${spec.location}`.then((rows) =>
          rows.length === 0 ? ('unknown' as const) : rows[0].archived ? ('archived' as const) : ('open' as const),
        ),
  ]);
  const problems = lineProblems(spec, stock, locationState);
  if (problems.length > 0) return { status: 'rejected', why: 'invalid', reason: `invalid ${spec.what}: ${problems.join('; ')}` };

  const allocation: { parts: Allocated[] } | { shortfall: string } =
    spec.location === undefined
      ? allocate(wants, stock, spec.allocation, spec.allocation.splitChannels.includes(spec.channel))
      : { parts: wants.map((w) => ({ ...w, location: spec.location as string })) };
  if ('shortfall' in allocation) throw new Shortfall({ status: 'rejected', why: 'out_of_stock', reason: allocation.shortfall });

  const placeOf = new Map(stock.map((s) => [`${s.location}/${s.sku}`, s]));
  const parts = allocation.parts.map((a, i) => ({
    part: { partNo: i + 1, lineNos: a.lineNos, sku: a.sku, location: a.location, quantity: a.quantity, reservationKey: spec.reservationKey(i + 1) } as PlacedPart,
    place: placeOf.get(`${a.location}/${a.sku}`) as Stocked,
  }));
  const inLockOrder = [...parts].sort((a, b) => a.place.locationId - b.place.locationId || a.place.variantId - b.place.variantId);
  // A backorderable item may be reserved where it never had a balance row: the ledger creates it,
  // locking every row of the order in the one lock order (the reservations then find them locked).
  if (inLockOrder.some((p) => !p.place.hasBalance)) await lockBalances(tx, inLockOrder.map((p) => p.place));
  // The reservations and the record of them go out in one pipeline, in lock order: the first
  // balance row lock is not held across a turn of the event loop, which under a flash sale's load
  // was what serialised the buyers. A part short is found afterwards and rolls everything back.
  const [results] = await Promise.all([Promise.all(inLockOrder.map(({ part }) => reservePart(tx, spec, part))), record?.(parts.map((p) => p.part))]).catch(
    (error: unknown) => {
      if (pgErrorOf(error)?.code !== NUMERIC_OUT_OF_RANGE) throw error;
      throw new Shortfall({ status: 'rejected', why: 'invalid', reason: `quantity_out_of_range: holding these lines would take a balance beyond ${BALANCE_MAX.toLocaleString('en-US')}, the most a stock balance can hold` });
    },
  );
  let expiresAt = '';
  let backorders = false;
  for (const [i, { part, place }] of inLockOrder.entries()) {
    const result = results[i];
    if (!result) {
      const refusal = await takeRefusal(tx, place, part.quantity);
      throw new Shortfall({ status: 'rejected', why: 'out_of_stock', reason: `${refusal.code}: ${refusal.message}` });
    }
    expiresAt = result.reservation?.expiresAt ?? expiresAt;
    const backordered = backorderOf(part, result.balances[0], spec.allocation.backorderLeadSeconds);
    if (backordered) part.backordered = backordered;
    backorders ||= backordered !== undefined;
  }
  const held = parts.map((p) => p.part);
  if (backorders) await record?.(held);
  return { status: 'reserved', parts: held, expiresAt };
}

/**
 * The units of a part beyond what was available, as the balance stands right after its reservation
 * (under the row lock, so exact): only a backorderable item's reservation takes available below zero.
 */
function backorderOf(part: PlacedPart, after: { available: number; incoming: number }, leadSeconds: number): PlacedPart['backordered'] {
  const quantity = Math.min(part.quantity, -after.available);
  if (quantity <= 0) return undefined;
  return { quantity, incoming: after.incoming, expectedBy: new Date(Date.now() + leadSeconds * 1000).toISOString(), basis: 'lead_time' };
}

async function reservePart(tx: Sql, spec: HoldSpec, part: PlacedPart): Promise<OperationResult | undefined> {
  const op = {
    kind: 'reserve',
    idempotencyKey: part.reservationKey,
    actor: spec.actor,
    sourceRef: spec.orderRef,
    orderRef: spec.orderRef,
    sku: part.sku,
    location: part.location,
    quantity: part.quantity,
    ttlSeconds: spec.ttlSeconds,
  } as const;
  const [reserved] = await reserveStatement(tx, keyed(op));
  return reserved?.result;
}

/** The same reasons, in the same words, as the order workflow gave before answers were synchronous. */
/** An archived location keeps its history but takes no new reservation; allocation passes it by. */
function lineProblems(spec: HoldSpec, stock: readonly Stocked[], location: 'open' | 'archived' | 'unknown'): string[] {
  if (location === 'unknown') return [`location: unknown location "${spec.location}"`];
  if (location === 'archived') return [`location: location "${spec.location}" is archived: its history stays, nothing new may be reserved there`];
  const known = new Set(stock.map((s) => s.sku));
  return spec.lines.flatMap((line, i) => (known.has(line.sku) ? [] : [`lines.${i}.sku: unknown SKU "${line.sku}"`]));
}
