import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { FINAL_STATES, type OrderEvent, type OrderLine, type OrderState } from '../schemas/orders';
import { canonicalJson } from './canonical';
import { clientOf } from './client';
import type { Db } from './connection';
import { locations, orderEvents, orders, orderTransitions, reservations, variants } from './schema';

export type OrderRow = typeof orders.$inferSelect;
export type OrderTransitionRow = typeof orderTransitions.$inferSelect;
export type OrderEventRow = typeof orderEvents.$inferSelect;

/**
 * Stores an upstream event once per channel and event id. A repeat is `isNew: false`; `delivered`
 * says whether an earlier copy already reached its workflow (if not, deliver again). A repeat of
 * the id with a different event is not stored and comes back as `conflictsWith`, the stored one.
 */
export async function recordOrderEvent(
  db: Db,
  event: OrderEvent,
): Promise<{ isNew: true } | { isNew: false; delivered: boolean; conflictsWith?: OrderEvent }> {
  const [inserted] = await db
    .insert(orderEvents)
    .values({ channel: event.channel, eventId: event.eventId, orderId: event.orderId, type: event.type, payload: event })
    .onConflictDoNothing({ target: [orderEvents.channel, orderEvents.eventId] })
    .returning({ id: orderEvents.id });
  if (inserted) return { isNew: true };
  const [existing] = await db
    .select({ deliveredAt: orderEvents.deliveredAt, payload: orderEvents.payload })
    .from(orderEvents)
    .where(and(eq(orderEvents.channel, event.channel), eq(orderEvents.eventId, event.eventId)));
  const stored = existing.payload as OrderEvent;
  const same = canonicalJson(stored) === canonicalJson(event);
  return { isNew: false, delivered: existing.deliveredAt != null, ...(same ? {} : { conflictsWith: stored }) };
}

/** Events stored at least `olderThanSeconds` ago that never reached their workflow, oldest first. */
export async function undeliveredOrderEvents(db: Db, olderThanSeconds: number, limit: number): Promise<OrderEvent[]> {
  const rows = await db
    .select({ payload: orderEvents.payload })
    .from(orderEvents)
    .where(and(isNull(orderEvents.deliveredAt), sql`${orderEvents.receivedAt} < now() - make_interval(secs => ${olderThanSeconds})`))
    .orderBy(asc(orderEvents.id))
    .limit(limit);
  return rows.map((r) => r.payload as OrderEvent);
}

/**
 * Marks events as having reached their workflows, many in one statement and one commit: after a
 * flash sale hundreds of workflow starts finish within a second or two. Rows are locked in id order,
 * so two processes marking overlapping events cannot deadlock.
 */
export async function markOrderEventsDelivered(db: Db, events: readonly Pick<OrderEvent, 'channel' | 'eventId'>[]): Promise<void> {
  const keys = events.map((e) => ({ channel: e.channel, event_id: e.eventId }));
  await clientOf(db)`
    WITH delivered AS (
      SELECT e.id FROM order_events e
      JOIN jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS d(channel text, event_id text) ON e.channel = d.channel AND e.event_id = d.event_id
      WHERE e.delivered_at IS NULL
      ORDER BY e.id
      FOR UPDATE OF e
    )
    UPDATE order_events SET delivered_at = now() WHERE id IN (SELECT id FROM delivered)`;
}

export interface TransitionInput {
  workflowId: string;
  channel: string;
  orderId: string;
  seq: number;
  from?: OrderState;
  to: OrderState;
  actor: string;
  ownerId: string;
  reason?: string;
  details?: Record<string, unknown>;
  /** Set on the order row with the transition: the lines and location once placed. */
  placed?: { location: string; lines: OrderLine[] };
}

/**
 * Moves the order to a new state and appends the transition, in one transaction; the first
 * transition creates the order row. A retry with the same sequence number changes nothing.
 */
export async function recordOrderTransition(db: Db, input: TransitionInput): Promise<{ recorded: boolean; at: Date }> {
  return db.transaction(async (tx) => {
    const [order] = await tx
      .insert(orders)
      .values({ workflowId: input.workflowId, channel: input.channel, orderId: input.orderId, state: input.to, stateOwnerId: input.ownerId })
      .onConflictDoUpdate({ target: orders.workflowId, set: { updatedAt: sql`${orders.updatedAt}` } })
      .returning({ id: orders.id });
    const [transition] = await tx
      .insert(orderTransitions)
      .values({
        orderPk: order.id,
        seq: input.seq,
        fromState: input.from,
        toState: input.to,
        actor: input.actor,
        ownerId: input.ownerId,
        reason: input.reason,
        details: input.details ?? {},
      })
      .onConflictDoNothing({ target: [orderTransitions.orderPk, orderTransitions.seq] })
      .returning({ at: orderTransitions.at });
    if (!transition) {
      const [first] = await tx
        .select({ at: orderTransitions.at })
        .from(orderTransitions)
        .where(and(eq(orderTransitions.orderPk, order.id), eq(orderTransitions.seq, input.seq)));
      return { recorded: false, at: first.at };
    }
    await tx
      .update(orders)
      .set({
        state: input.to,
        stateOwnerId: input.ownerId,
        updatedAt: sql`now()`,
        ...(input.placed ? { location: input.placed.location, lines: input.placed.lines } : {}),
        ...(FINAL_STATES.includes(input.to) && input.reason ? { outcomeReason: input.reason } : {}),
      })
      .where(eq(orders.id, order.id));
    return { recorded: true, at: transition.at };
  });
}

/** Why lines cannot be reserved as placed: unknown SKUs or location, one reason per bad line. */
export async function orderLineProblems(db: Db, location: string, lines: OrderLine[]): Promise<string[]> {
  const skus = [...new Set(lines.map((l) => l.sku))];
  const [known, place] = await Promise.all([
    db.select({ sku: variants.sku }).from(variants).where(inArray(variants.sku, skus)),
    db.select({ id: locations.id }).from(locations).where(eq(locations.code, location)),
  ]);
  const knownSkus = new Set(known.map((k) => k.sku));
  const problems = lines.flatMap((line, i) => (knownSkus.has(line.sku) ? [] : [`lines.${i}.sku: unknown SKU "${line.sku}"`]));
  if (place.length === 0) problems.unshift(`location: unknown location "${location}"`);
  return problems;
}

export interface OrderRecord {
  order: OrderRow;
  transitions: OrderTransitionRow[];
  events: OrderEventRow[];
  reservations: { key: string; sku: string; location: string; quantity: number; status: string; expiresAt: Date }[];
}

/** The canonical record of an order with its whole trail; several channels may use one order id. */
export async function findOrders(db: Db, orderId: string, channel?: string): Promise<OrderRecord[]> {
  const rows = await db
    .select()
    .from(orders)
    .where(channel ? and(eq(orders.orderId, orderId), eq(orders.channel, channel)) : eq(orders.orderId, orderId))
    .orderBy(asc(orders.channel));
  return Promise.all(
    rows.map(async (order) => {
      const [transitions, events, held] = await Promise.all([
        db.select().from(orderTransitions).where(eq(orderTransitions.orderPk, order.id)).orderBy(asc(orderTransitions.seq)),
        db
          .select()
          .from(orderEvents)
          .where(and(eq(orderEvents.channel, order.channel), eq(orderEvents.orderId, order.orderId)))
          .orderBy(asc(orderEvents.receivedAt), asc(orderEvents.id)),
        db
          .select({
            key: reservations.idempotencyKey,
            sku: variants.sku,
            location: locations.code,
            quantity: reservations.quantity,
            status: reservations.status,
            expiresAt: reservations.expiresAt,
          })
          .from(reservations)
          .innerJoin(variants, eq(variants.id, reservations.variantId))
          .innerJoin(locations, eq(locations.id, reservations.locationId))
          .where(eq(reservations.orderRef, order.workflowId))
          .orderBy(asc(reservations.id)),
      ]);
      return { order, transitions, events, reservations: held };
    }),
  );
}

/** Active reservations whose expiry has passed, oldest first: what the sweep releases when no workflow did. */
export async function expiredReservations(db: Db, limit: number): Promise<{ id: number; key: string }[]> {
  return db
    .select({ id: reservations.id, key: reservations.idempotencyKey })
    .from(reservations)
    .where(and(eq(reservations.status, 'active'), sql`${reservations.expiresAt} < now()`))
    .orderBy(asc(reservations.expiresAt))
    .limit(limit);
}
