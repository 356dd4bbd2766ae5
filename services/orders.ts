import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { AuditEntry } from '../db/audit';
import type { Db } from '../db/connection';
import { findOrders, markOrderEventsDelivered, recordOrderEvent, undeliveredOrderEvents } from '../db/orders';
import { BatchLanes, lanesPer } from './batch-lanes';
import { tellCart } from './carts';
import { checkoutsSettled, placeAtCheckout } from './checkout-lanes';
import { Limiter } from './limiter';
import { reservationTtlSeconds } from '../domain/order-windows';
import { idempotencyKeys, workflowIds } from '../domain/keys';
import { Refusal } from '../domain/refusal';
import type { OrderEvent, PlacementAnswer } from '../schemas/orders';
import { orderEventSignal, retryFulfilmentSignal, type FulfilmentRetry } from '../workflows/order-messages';
import type { OrderFlowInput, orderReconciliation } from '../workflows/order-reconciliation';
import { OrderId, StockflowFlow } from '../workflows/search-attributes';
import type { Services } from './context';

export type Delivery = { workflowId: string; delivered: true } | { workflowId: string; delivered: false; why: string };
export type EventReceipt = Delivery & { new: boolean; placement?: PlacementAnswer };

/**
 * An upstream order event: stored once per channel and event id, then delivered to its order's
 * workflow. A repeat answers as the first time did; a repeat of the id with another event is
 * refused, since an event id names one event. `audit`, the audit row of a new event's request, is
 * committed with a placed event; `audited` says it was.
 */
export async function receiveOrderEvent(s: Services, event: OrderEvent, audit?: AuditEntry): Promise<{ receipt: EventReceipt; audited: boolean }> {
  if (event.type === 'order.placed') {
    const receipt = await receivePlacedEvent(s, event, audit);
    return { receipt, audited: audit !== undefined && receipt.new };
  }
  return { receipt: await receiveOtherEvent(s, event), audited: false };
}

async function receiveOtherEvent(s: Services, event: OrderEvent): Promise<EventReceipt> {
  const recorded = await recordOrderEvent(s.db, event);
  if (!recorded.isNew && recorded.conflictsWith) throw eventConflict(event, recorded.conflictsWith);
  const workflowId = workflowIds.order(event.channel, event.orderId);
  if (!recorded.isNew && recorded.delivered) return { new: false, workflowId, delivered: true };
  // Delivered again when an earlier copy was stored but never reached Temporal; the workflow drops repeats by event id.
  const delivery = await deliverOrderEvent(s, event);
  await markDelivered(s.db, event);
  return { new: recorded.isNew, ...delivery };
}

/**
 * `order.placed` is answered at checkout: stored, reserved (all lines or none, allocated when it
 * names no location) and answered in one transaction (db/placements.ts), then delivered to the
 * order's workflow, which takes the answer over. A repeat answers as the first time.
 */
async function receivePlacedEvent(s: Services, event: Extract<OrderEvent, { type: 'order.placed' }>, audit: AuditEntry | undefined): Promise<EventReceipt> {
  const workflowId = workflowIds.order(event.channel, event.orderId);
  const receipt = await placeAtCheckout(s.checkoutDb, {
    event,
    workflowId,
    reservationKey: (partNo) => idempotencyKeys.orderLine(workflowId, 'reserve', partNo),
    ttlSeconds: reservationTtlSeconds(s.orderWindows),
    actor: 'stockflow',
    allocation: s.allocation,
    audit,
  });
  if ('conflictsWith' in receipt) throw eventConflict(event, receipt.conflictsWith);
  const placement = receipt.answer ? { placement: receipt.answer } : {};
  if (!receipt.isNew && receipt.delivered) return { new: false, workflowId, delivered: true, ...placement };
  // The buyer's answer does not wait for Temporal (the flash-sale bench measured that wait at
  // seconds under load): the event is stored undelivered, and a start lost here is the relay's.
  startAfterAnswer(() => deliverAndMark(s, event));
  if (event.cartId && receipt.answer?.status === 'reserved') startAfterAnswer(() => tellCart(s, event.cartId as string, { ended: 'converted' }));
  return { new: receipt.isNew, workflowId, delivered: false, why: DELIVERY_AFTER_ANSWER, ...placement };
}

/**
 * Starts after answers, a few at a time per process: a flash sale answered in a second must not
 * start hundreds of workflows in the same instant, which starved the worker of the CPU its
 * activities needed. An event still waiting when the process stops is the relay's.
 */
const afterAnswer = new Limiter(16);

/**
 * How long a start after an answer gives way to a rush of checkouts still queued: each start costs
 * this process about as much CPU as an answer, and under a flash sale on two cores the starts made
 * alongside the answers doubled the buyers' wait (the flash-sale bench). The wait is outside the
 * limiter, so under steady load the starts keep their pace, only later. Past it, a start goes anyway.
 */
const STARTS_YIELD_MS = 2000;
const yielding = new Set<Promise<unknown>>();

function startAfterAnswer(start: () => Promise<unknown>): void {
  const started = checkoutsSettled(STARTS_YIELD_MS).then(() => afterAnswer.run(start));
  const tracked = started.catch(() => undefined).finally(() => yielding.delete(tracked));
  yielding.add(tracked);
}

/** Resolves when every workflow start handed over after an answer has been made (or failed, for the relay). */
export async function startsAfterAnswers(): Promise<void> {
  while (yielding.size > 0) await Promise.all(yielding);
  await afterAnswer.idle();
}

const DELIVERY_AFTER_ANSWER = "the order's workflow is started right after the answer; the relay retries a start that was lost";

async function deliverAndMark(s: Services, event: OrderEvent): Promise<void> {
  await deliverOrderEvent(s, event);
  await markDelivered(s.db, event);
}

/**
 * Deliveries are marked together, per process and database: the starts after a flash sale's answers
 * finish by the hundred, and one statement and one commit for those that finished in the same turn
 * keeps the pool's connections free for the checkouts that come next.
 */
const deliveryMarks = lanesPer(
  (db: Db) =>
    new BatchLanes(1, 500, async (events: OrderEvent[]) => {
      await markOrderEventsDelivered(db, events);
      return events.map(() => undefined);
    }),
);

function markDelivered(db: Db, event: OrderEvent): Promise<undefined> {
  return deliveryMarks(db).submit('', event);
}

function eventConflict(event: OrderEvent, first: OrderEvent): Refusal {
  return new Refusal(
    'event_conflict',
    `event "${event.eventId}" from ${event.channel} was already received as ${first.type} of order ${first.orderId}; a different event needs its own event id`,
    'eventId',
  );
}

/**
 * The outbox relay: delivers every event stored at least `olderThanSeconds` ago that never reached
 * its workflow (the process stopped between the commit and the start). The workflow drops a
 * repeat by event id, so a relay racing the request's own delivery changes nothing.
 */
export async function relayUndeliveredOrderEvents(s: Services, olderThanSeconds: number): Promise<number> {
  const pending = await undeliveredOrderEvents(s.db, olderThanSeconds, 500);
  for (const event of pending) await deliverAndMark(s, event);
  return pending.length;
}

/**
 * Delivers an event to `order/<channel>/<orderId>`, starting the workflow with the first one
 * (signal-with-start). A finished order is not started again: the event is refused as too late.
 */
async function deliverOrderEvent(s: Services, event: OrderEvent): Promise<Delivery> {
  const workflowId = workflowIds.order(event.channel, event.orderId);
  try {
    await s.client.workflow.signalWithStart<typeof orderReconciliation, [OrderEvent]>('orderReconciliation', {
      taskQueue: s.taskQueue,
      workflowId,
      args: [{ channel: event.channel, orderId: event.orderId, windows: s.orderWindows } satisfies OrderFlowInput],
      signal: orderEventSignal,
      signalArgs: [event],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: StockflowFlow, value: 'orderReconciliation' },
        { key: OrderId, value: event.orderId },
      ],
      staticSummary: `Order ${event.orderId} from ${event.channel}`,
    });
    return { workflowId, delivered: true };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, delivered: false, why: 'the order is already closed' };
    throw error;
  }
}

/** Hands an order nobody acknowledged to the warehouse again; the order records who asked and why. */
export async function retryFulfilment(s: Services, orderId: string, channel: string | undefined, retry: FulfilmentRetry): Promise<{ workflowId: string }> {
  const found = await findOrders(s.db, orderId, channel);
  if (found.length === 0) throw new Refusal('not_found', `no order "${orderId}"${channel ? ` from ${channel}` : ''}`, 'orderId');
  if (found.length > 1) {
    throw new Refusal('ambiguous_order', `order "${orderId}" exists in ${found.map((f) => f.order.channel).join(', ')}: pass channel`, 'channel');
  }
  const { order } = found[0];
  if (order.state !== 'paid' && order.state !== 'fulfilment_requested') {
    throw new Refusal('not_waiting', `order ${orderId} is ${order.state}, not waiting for the warehouse`);
  }
  await s.client.workflow.getHandle(order.workflowId).signal(retryFulfilmentSignal, retry);
  return { workflowId: order.workflowId };
}
