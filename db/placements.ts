import { allocate, mergeLines, type Allocated } from '../domain/allocation';
import type { AllocationRules, OrderEvent, PlacedPart, PlacementAnswer } from '../schemas/orders';
import type { OperationResult } from '../schemas/stock';
import { canonicalJson } from './canonical';
import { clientOf, type Sql } from './client';
import type { Db } from './connection';
import { reserveStatement, type Place } from './ledger';
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
class Shortfall extends Error {
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
  const answer = rejected ?? (await reserve(tx, request));
  await tx`UPDATE order_placements SET answer = ${JSON.stringify(answer)}::jsonb WHERE id = ${claimed.id}`;
  return { isNew: true, delivered: false, answer };
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

type Stocked = Place & { available: number };

/** Reserves every part or throws a Shortfall; lines naming an unknown SKU or location are an answer, not a failure. */
async function reserve(tx: Sql, request: PlacementRequest): Promise<PlacementAnswer> {
  const { event } = request;
  const wants = mergeLines(event.lines);
  const [stock, locationKnown] = await Promise.all([
    tx<Stocked[]>`
      SELECT v.sku, l.code AS location, v.id AS "variantId", l.id AS "locationId", v.allow_negative AS "allowNegative",
             coalesce(b.available, 0) AS available
      FROM variants v CROSS JOIN locations l
      LEFT JOIN stock_balances b ON b.variant_id = v.id AND b.location_id = l.id
      WHERE v.sku = ANY(${wants.map((w) => w.sku)}::text[]) AND (${event.location ?? null}::text IS NULL OR l.code = ${event.location ?? null})`,
    event.location === undefined ? true : tx`SELECT FROM locations WHERE code = ${event.location}`.then((rows) => rows.length > 0),
  ]);
  const problems = lineProblems(event, stock, locationKnown);
  if (problems.length > 0) return { status: 'rejected', why: 'invalid', reason: `invalid order: ${problems.join('; ')}` };

  const allocation: { parts: Allocated[] } | { shortfall: string } =
    event.location === undefined
      ? allocate(wants, stock, request.allocation, request.allocation.splitChannels.includes(event.channel))
      : { parts: wants.map((w) => ({ ...w, location: event.location as string })) };
  if ('shortfall' in allocation) throw new Shortfall({ status: 'rejected', why: 'out_of_stock', reason: allocation.shortfall });

  const placeOf = new Map(stock.map((s) => [`${s.location}/${s.sku}`, s]));
  const parts = allocation.parts.map((a, i) => ({ part: { partNo: i + 1, lineNos: a.lineNos, sku: a.sku, location: a.location, quantity: a.quantity, reservationKey: request.reservationKey(i + 1) }, place: placeOf.get(`${a.location}/${a.sku}`) as Stocked }));
  const inLockOrder = [...parts].sort((a, b) => a.place.locationId - b.place.locationId || a.place.variantId - b.place.variantId);
  let expiresAt = '';
  for (const { part, place } of inLockOrder) {
    const result = await reservePart(tx, request, part);
    if (!result) {
      const refusal = await takeRefusal(tx, place, part.quantity);
      throw new Shortfall({ status: 'rejected', why: 'out_of_stock', reason: `${refusal.code}: ${refusal.message}` });
    }
    expiresAt = result.reservation?.expiresAt ?? expiresAt;
  }
  return { status: 'reserved', parts: parts.map((p) => p.part), expiresAt };
}

async function reservePart(tx: Sql, request: PlacementRequest, part: PlacedPart): Promise<OperationResult | undefined> {
  const op = {
    kind: 'reserve',
    idempotencyKey: part.reservationKey,
    actor: request.actor,
    sourceRef: request.workflowId,
    orderRef: request.workflowId,
    sku: part.sku,
    location: part.location,
    quantity: part.quantity,
    ttlSeconds: request.ttlSeconds,
  } as const;
  const [reserved] = await reserveStatement(tx, keyed(op));
  return reserved?.result;
}

/** The same reasons, in the same words, as the order workflow gave before answers were synchronous. */
function lineProblems(event: OrderPlaced, stock: readonly Stocked[], locationKnown: boolean): string[] {
  const known = new Set(stock.map((s) => s.sku));
  const problems = event.lines.flatMap((line, i) => (known.has(line.sku) || !locationKnown ? [] : [`lines.${i}.sku: unknown SKU "${line.sku}"`]));
  if (!locationKnown) problems.unshift(`location: unknown location "${event.location}"`);
  return problems;
}
