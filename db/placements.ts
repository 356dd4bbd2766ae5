import { mergeLines } from '../domain/allocation';
import type { AllocationRules, OrderEvent, PlacedPart, PlacementAnswer } from '../schemas/orders';
import { recordAudits, type AuditEntry } from './audit';
import { canonicalJson } from './canonical';
import { clientOf, type Sql } from './client';
import type { Db } from './connection';
import { reserveLines, Shortfall, type HoldSpec } from './holds';
import { expiryIso, handOverReservations } from './ledger';

export type OrderPlaced = Extract<OrderEvent, { type: 'order.placed' }>;

export interface PlacementRequest {
  event: OrderPlaced;
  workflowId: string;
  /** The reservation keys, one per part (1-based), as the order's workflow commits and releases them. */
  reservationKey: (partNo: number) => string;
  ttlSeconds: number;
  actor: string;
  allocation: AllocationRules;
  /**
   * The audit row of the request that placed the order, committed with the event when it is stored
   * (a new placement): the write and who made it stand or fall together, and the answer does not
   * wait for a commit of its own.
   */
  audit?: AuditEntry;
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
  return placeAllOrNothing((work) => pool.begin(work), request);
}

/**
 * Places an order in a unit of work that `open` gives (a transaction, or a savepoint of one): a
 * shortfall unwinds that unit, and a second one stores the event with the refusal.
 */
export async function placeAllOrNothing(open: (work: (sql: Sql) => Promise<PlacementReceipt>) => Promise<PlacementReceipt>, request: PlacementRequest): Promise<PlacementReceipt> {
  try {
    return await open((sql) => place(sql, request));
  } catch (error) {
    if (!(error instanceof Shortfall)) throw error;
    return open((sql) => place(sql, request, error.answer));
  }
}

/** The stored answer of an order's placement, if it was placed through placeOrder. */
export async function orderPlacementOf(db: Db, workflowId: string): Promise<PlacementAnswer | undefined> {
  return answerOf(clientOf(db), workflowId);
}

async function place(tx: Sql, request: PlacementRequest, rejected?: PlacementAnswer): Promise<PlacementReceipt> {
  const { event, workflowId } = request;
  const [stored] = await tx`
    INSERT INTO order_events (channel, event_id, order_id, type, payload)
    VALUES (${event.channel}, ${event.eventId}, ${event.orderId}, ${event.type}, ${JSON.stringify(event)}::jsonb)
    ON CONFLICT (channel, event_id) DO NOTHING
    RETURNING id`;
  if (!stored) return repeated(tx, event, workflowId);
  const [[claimed]] = await Promise.all([
    tx<{ id: number }[]>`
      INSERT INTO order_placements (workflow_id, channel, order_id, event_id)
      VALUES (${workflowId}, ${event.channel}, ${event.orderId}, ${event.eventId})
      ON CONFLICT (workflow_id) DO NOTHING
      RETURNING id`,
    request.audit ? recordAudits(tx, [request.audit]) : undefined,
  ]);
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

export function holdOf({ event, workflowId, reservationKey, ttlSeconds, actor, allocation }: PlacementRequest): HoldSpec {
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

export async function repeated(tx: Sql, event: OrderPlaced, workflowId: string): Promise<PlacementReceipt> {
  const [first] = await tx<{ payload: OrderEvent; delivered: boolean }[]>`
    SELECT payload, delivered_at IS NOT NULL AS delivered FROM order_events WHERE channel = ${event.channel} AND event_id = ${event.eventId}`;
  if (canonicalJson(first.payload) !== canonicalJson(event)) return { conflictsWith: first.payload };
  return { isNew: false, delivered: first.delivered, answer: await answerOf(tx, workflowId) };
}

export async function answerOf(sql: Sql, workflowId: string): Promise<PlacementAnswer | undefined> {
  const [row] = await sql<{ answer: PlacementAnswer | null }[]>`SELECT answer FROM order_placements WHERE workflow_id = ${workflowId}`;
  return row?.answer ?? undefined;
}

