import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sourceOf } from '../../schemas/identity';
import {
  ClosePurchaseOrder,
  NewPurchaseOrder,
  PoNumber,
  PurchaseOrderPage,
  PurchaseOrderQuery,
  PurchaseOrderReceipt,
  PurchaseOrderView,
  ReceiptView,
} from '../../schemas/purchase-orders';
import { closePurchaseOrder, findPurchaseOrder, getPurchaseOrders, placePurchaseOrder, receivePurchaseOrder } from '../../services/purchase-orders';
import { actorOf } from '../access';
import { ErrorBody } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const tags = ['purchasing'];
const PoParams = z.object({ po: PoNumber });

export function registerPurchaseOrderRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'POST',
      url: '/v1/purchase-orders',
      summary: 'Place a purchase order directly (approved suggestions become orders on their own); idempotent by the PO number you give it',
      tags,
      access: 'operator',
      role: 'approver',
      principalField: 'by',
      body: NewPurchaseOrder,
      responses: {
        201: { description: 'placed; its workflow raises incoming and sends it to the supplier', schema: PurchaseOrderView },
        200: { description: 'already placed with this number and the same content: the order as it is', schema: PurchaseOrderView },
        400: { description: 'an invalid line or an unknown SKU or location, naming the line', schema: ErrorBody },
        404: { description: 'an unknown or archived supplier', schema: ErrorBody },
        409: { description: 'the number is taken by an order with other content', schema: ErrorBody },
      },
    },
    async ({ body, reply }) => {
      const placed = await placePurchaseOrder(services(deps), body);
      return reply.status(placed.created ? 201 : 200).send(placed.order);
    },
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/purchase-orders',
      summary: 'Purchase orders by number, optionally of one status or supplier, a page at a time',
      tags,
      access: 'operator',
      query: PurchaseOrderQuery,
      responses: { 200: { description: 'a page of orders (nextCursor: null on the last page)', schema: PurchaseOrderPage } },
    },
    async ({ query }) => getPurchaseOrders(services(deps), query),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/purchase-orders/:po',
      summary: 'One purchase order: each line ordered, received and remaining, and every receipt',
      tags,
      access: 'operator',
      params: PoParams,
      responses: { 200: { description: 'the order', schema: PurchaseOrderView }, 404: { description: 'no such order', schema: ErrorBody } },
    },
    async ({ params }) => findPurchaseOrder(services(deps), params.po),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/purchase-orders/:po/receipts',
      summary: 'Record what arrived against an order (signed by the warehouse, or an operator token): units move from incoming to on hand; idempotent by receiptId',
      tags,
      access: 'upstream',
      source: sourceOf.warehouse,
      params: PoParams,
      body: PurchaseOrderReceipt,
      responses: {
        200: { description: 'recorded (replayed: true when this receipt id was recorded before; nothing moved again)', schema: z.object({ receipt: ReceiptView, replayed: z.boolean(), order: PurchaseOrderView }) },
        400: { description: 'a line the order does not have, naming it', schema: ErrorBody },
        404: { description: 'no such order', schema: ErrorBody },
        409: { description: 'over the over-receipt tolerance (naming the line), the order is no longer open, or the receipt id was used with other lines; nothing changed', schema: ErrorBody },
      },
    },
    async ({ params, body, request }) => receivePurchaseOrder(services(deps), params.po, body, actorOf(request)),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/purchase-orders/:po/close',
      summary: 'Close an order short as the authenticated buyer: what was not received leaves incoming, and nothing more is received against it',
      tags,
      access: 'operator',
      role: 'approver',
      principalField: 'by',
      params: PoParams,
      body: ClosePurchaseOrder,
      responses: {
        200: { description: 'closed (or already closed)', schema: PurchaseOrderView },
        404: { description: 'no such order', schema: ErrorBody },
        409: { description: 'already received in full', schema: ErrorBody },
      },
    },
    async ({ params, body }) => closePurchaseOrder(services(deps), params.po, body),
  );
}
