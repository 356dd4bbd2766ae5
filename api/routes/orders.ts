import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { deliverOrderEvent } from '../../services/orders';
import { findOrders, markOrderEventDelivered, recordOrderEvent, type OrderRecord } from '../../db/orders';
import { OwnerId } from '../../schemas/ownership';
import { ChannelId, OrderEvent, OrderId, OrderLookup } from '../../schemas/orders';
import { workflowIds } from '../../domain/keys';
import { retryFulfilmentSignal } from '../../workflows/order-messages';
import { ErrorBody, fieldError, HttpError } from '../errors';
import { route } from '../route';
import type { ApiDeps } from '../server';

const EventAccepted = z.object({
  new: z.boolean().describe('false when this event id was already received from the channel: nothing happens twice'),
  workflowId: z.string(),
  delivered: z.boolean().describe('false when the order had already finished: the event is kept but changes nothing'),
  why: z.string().optional(),
});

const OrderView = z.object({
  workflowId: z.string(),
  channel: z.string(),
  orderId: z.string(),
  state: z.string(),
  stateOwnerId: z.string(),
  location: z.string().nullable(),
  lines: z.unknown(),
  outcomeReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  transitions: z.array(
    z.object({ seq: z.number(), from: z.string().nullable(), to: z.string(), actor: z.string(), ownerId: z.string(), reason: z.string().nullable(), details: z.unknown(), at: z.string() }),
  ),
  events: z.array(z.object({ eventId: z.string(), type: z.string(), receivedAt: z.string(), delivered: z.boolean(), payload: z.unknown() })),
  reservations: z.array(z.object({ key: z.string(), sku: z.string(), location: z.string(), quantity: z.number(), status: z.string(), expiresAt: z.string() })),
});

function view({ order, transitions, events, reservations }: OrderRecord): z.infer<typeof OrderView> {
  return {
    workflowId: order.workflowId,
    channel: order.channel,
    orderId: order.orderId,
    state: order.state,
    stateOwnerId: order.stateOwnerId,
    location: order.location,
    lines: order.lines,
    outcomeReason: order.outcomeReason,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    transitions: transitions.map((t) => ({ seq: t.seq, from: t.fromState, to: t.toState, actor: t.actor, ownerId: t.ownerId, reason: t.reason, details: t.details, at: t.at.toISOString() })),
    events: events.map((e) => ({ eventId: e.eventId, type: e.type, receivedAt: e.receivedAt.toISOString(), delivered: e.deliveredAt !== null, payload: e.payload })),
    reservations: reservations.map((r) => ({ ...r, expiresAt: r.expiresAt.toISOString() })),
  };
}

export function registerOrderRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'POST',
      url: '/v1/orders/events',
      summary: 'An upstream order or fulfilment event; delivered to the workflow order/<channel>/<orderId> (started by the first event)',
      tags: ['orders'],
      access: 'upstream',
      body: OrderEvent,
      responses: {
        202: { description: 'a new event, delivered to its order', schema: EventAccepted },
        200: { description: 'an event id already received: nothing happens twice', schema: EventAccepted },
        400: { description: 'invalid event, naming every bad field', schema: ErrorBody },
      },
    },
    async ({ body: event, reply }) => {
      const { isNew, delivered } = await recordOrderEvent(deps.database.db, event);
      if (!isNew && delivered) return reply.status(200).send({ new: false, workflowId: workflowIds.order(event.channel, event.orderId), delivered: true });
      // Delivered again when an earlier copy was stored but never reached Temporal; the workflow drops repeats by event id.
      const delivery = await deliverOrderEvent(deps.client, deps.taskQueue, deps.orderWindows, event);
      await markOrderEventDelivered(deps.database.db, event);
      return reply.status(isNew ? 202 : 200).send({ new: isNew, ...delivery });
    },
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/orders/:orderId',
      summary: 'The canonical order record with every transition (time, actor, owner), its events and its reservations',
      tags: ['orders'],
      access: 'operator',
      params: z.object({ orderId: OrderId }),
      query: OrderLookup,
      responses: {
        200: { description: 'the order', schema: OrderView },
        404: { description: 'no such order', schema: ErrorBody },
        409: { description: 'the order id is used by several channels: pass ?channel=', schema: ErrorBody },
      },
    },
    async ({ params, query }) => {
      const found = await findOrders(deps.database.db, params.orderId, query.channel);
      if (found.length === 0) throw fieldError(404, 'not_found', 'orderId', `no order "${params.orderId}"${query.channel ? ` from ${query.channel}` : ''}`);
      if (found.length > 1) {
        throw fieldError(409, 'ambiguous_order', 'channel', `order "${params.orderId}" exists in ${found.map((f) => f.order.channel).join(', ')}: pass ?channel=`);
      }
      return view(found[0]);
    },
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/orders/:orderId/fulfilment-retries',
      summary: 'Hand an order nobody acknowledged to the warehouse again (the retry path of its exception)',
      tags: ['orders'],
      access: 'operator',
      params: z.object({ orderId: OrderId }),
      body: z.object({ channel: ChannelId.optional(), by: OwnerId, reason: z.string().trim().min(1, 'must say why').max(1000) }),
      responses: {
        202: { description: 'the order will hand off again', schema: z.object({ workflowId: z.string() }) },
        404: { description: 'no such order', schema: ErrorBody },
        409: { description: 'the order is not waiting for the warehouse', schema: ErrorBody },
      },
    },
    async ({ params, body, reply }) => {
      const found = await findOrders(deps.database.db, params.orderId, body.channel);
      if (found.length !== 1) throw fieldError(found.length === 0 ? 404 : 409, found.length === 0 ? 'not_found' : 'ambiguous_order', 'orderId', `${found.length} orders "${params.orderId}" match`);
      const { order } = found[0];
      if (order.state !== 'paid' && order.state !== 'fulfilment_requested') {
        throw new HttpError(409, { error: 'not_waiting', message: `order ${params.orderId} is ${order.state}, not waiting for the warehouse` });
      }
      await deps.client.workflow.getHandle(order.workflowId).signal(retryFulfilmentSignal, { by: body.by, reason: body.reason });
      return reply.status(202).send({ workflowId: order.workflowId });
    },
  );
}
