import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { findOrders, type OrderRecord } from '../../db/orders';
import { receiveOrderEvent, retryFulfilment } from '../../services/orders';
import { sourceOf } from '../../schemas/identity';
import { OwnerId } from '../../schemas/ownership';
import { ChannelId, OrderEvent, OrderId, OrderLookup, PlacementAnswer } from '../../schemas/orders';
import { writeAudit } from '../access';
import { ErrorBody, fieldError } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const EventAccepted = z.object({
  new: z.boolean().describe('false when this event id was already received from the channel: nothing happens twice'),
  workflowId: z.string(),
  delivered: z
    .boolean()
    .describe('false when the order had already finished (the event is kept but changes nothing), or for order.placed when the workflow starts after the answer (see why)'),
  why: z.string().optional(),
  placement: PlacementAnswer.optional().describe(
    'order.placed only: the answer at checkout, every line reserved (with the reservation of each part) or none and why; a repeat gets the same answer',
  ),
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
      source: (request) => sourceOf.channel((request.body as { channel?: unknown } | undefined)?.channel),
      body: OrderEvent,
      responses: {
        202: { description: 'a new event, delivered to its order', schema: EventAccepted },
        200: { description: 'an event id already received: nothing happens twice', schema: EventAccepted },
        400: { description: 'invalid event, naming every bad field', schema: ErrorBody },
        409: { description: 'the event id was already used for a different event', schema: ErrorBody },
      },
    },
    async ({ body: event, request, reply }) => {
      // A new event answers 202: its audit row is written with the event where the service can (a placement).
      const { receipt, audited } = await receiveOrderEvent(services(deps), event, writeAudit(request, 202));
      request.writeAudited = audited;
      return reply.status(receipt.new ? 202 : 200).send(receipt);
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
      principalField: 'by',
      params: z.object({ orderId: OrderId }),
      body: z.object({ channel: ChannelId.optional(), by: OwnerId, reason: z.string().trim().min(1, 'must say why').max(1000) }),
      responses: {
        202: { description: 'the order will hand off again', schema: z.object({ workflowId: z.string() }) },
        404: { description: 'no such order', schema: ErrorBody },
        409: { description: 'the order is not waiting for the warehouse', schema: ErrorBody },
      },
    },
    async ({ params, body, reply }) => {
      const { channel, ...retry } = body;
      return reply.status(202).send(await retryFulfilment(services(deps), params.orderId, channel, retry));
    },
  );
}
