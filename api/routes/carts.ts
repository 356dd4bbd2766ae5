import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { extendCartHold, findCart, holdCartLines, releaseCart } from '../../services/carts';
import { CartExtendRequest, CartHoldRequest, CartId, CartView } from '../../schemas/carts';
import { ErrorBody } from '../errors';
import { sourceOf } from '../../schemas/identity';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const CartParams = z.object({ cartId: CartId });

/** Cart reservations: units held for a shopper before an order exists; `order.placed` with `cartId` converts them. */
export function registerCartRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'POST',
      url: '/v1/reservations',
      summary: "Hold a cart's lines (all or none) until the hold expires (ttl, default STOCKFLOW_CART_TTL); the cart id is the key",
      tags: ['carts'],
      access: 'upstream',
      source: (request) => sourceOf.channel((request.body as { channel?: unknown } | undefined)?.channel),
      body: CartHoldRequest,
      responses: {
        201: { description: 'held', schema: CartView },
        200: { description: 'this cart id was already used: the hold as it is', schema: CartView },
        400: { description: 'invalid lines (unknown SKU or location), naming each', schema: ErrorBody },
        409: { description: 'not enough available: nothing is held', schema: ErrorBody },
      },
    },
    async ({ body, reply }) => {
      const held = await holdCartLines(services(deps), body);
      return reply.status(held.new ? 201 : 200).send(held.cart);
    },
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/reservations/:cartId',
      summary: "A cart's hold: status, expiry and the reservation of each part",
      tags: ['carts'],
      access: 'upstream',
      params: CartParams,
      responses: { 200: { description: 'the cart', schema: CartView }, 404: { description: 'no such cart', schema: ErrorBody } },
    },
    async ({ params }) => findCart(services(deps), params.cartId),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/reservations/:cartId/extend',
      summary: 'Extend a held cart: the hold lasts ttl from now',
      tags: ['carts'],
      access: 'upstream',
      params: CartParams,
      body: CartExtendRequest,
      responses: {
        200: { description: 'the extended cart', schema: CartView },
        404: { description: 'no such cart', schema: ErrorBody },
        409: { description: 'the cart is not held (released, converted, or its hold ran out)', schema: ErrorBody },
      },
    },
    async ({ params, body }) => extendCartHold(services(deps), params.cartId, body.ttl),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/reservations/:cartId/release',
      summary: "Release a held cart: its units are available again",
      tags: ['carts'],
      access: 'upstream',
      params: CartParams,
      responses: {
        200: { description: 'the released cart', schema: CartView },
        404: { description: 'no such cart', schema: ErrorBody },
        409: { description: 'the cart is not held', schema: ErrorBody },
      },
    },
    async ({ params }) => releaseCart(services(deps), params.cartId),
  );
}
