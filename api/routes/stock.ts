import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { getStockLevels } from '../../db/levels';
import { requestStockMovement } from '../../services/stock-movement';
import { Sku } from '../../schemas/common';
import { sourceOf } from '../../schemas/identity';
import { BalanceView, MovementRequest, OperationResult, StockLevels } from '../../schemas/stock';
import { StockListQuery } from '../../schemas/catalogue';
import { stockAsOf, stockPage } from '../../services/catalogue';
import { ErrorBody, fieldError } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const MovementAccepted = z.object({
  status: z.enum(['applied', 'running']),
  workflowId: z.string(),
  result: OperationResult.optional(),
});

export function registerStockRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'GET',
      url: '/v1/stock/:sku',
      summary: 'On hand, reserved, committed, incoming and available for a SKU, per location and in total',
      tags: ['stock'],
      access: 'operator',
      params: z.object({ sku: Sku }),
      query: z.object({
        asOf: z.iso
          .datetime({ offset: true, error: 'must be an ISO 8601 time such as 2026-01-31T17:00:00Z' })
          .optional()
          .describe('the buckets as they were at this instant, summed from the ledger'),
      }),
      responses: { 200: { description: 'stock levels', schema: StockLevels }, 404: { description: 'unknown SKU', schema: ErrorBody } },
    },
    async ({ params, query }) => {
      if (query.asOf) return stockAsOf(services(deps), params.sku, new Date(query.asOf));
      const levels = await getStockLevels(deps.database.db, params.sku);
      if (!levels) throw fieldError(404, 'unknown_sku', 'sku', `no SKU "${params.sku}"`);
      return levels;
    },
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/stock',
      summary: 'Balances, a page at a time (filters: location, SKU prefix, tag, available at most, blocked by a count, negative)',
      tags: ['stock'],
      access: 'operator',
      query: StockListQuery,
      responses: {
        200: { description: 'a page of balances (nextCursor: null on the last page)', schema: z.object({ items: z.array(BalanceView.extend({ sku: z.string() })), nextCursor: z.string().nullable() }) },
        400: { description: 'invalid filter', schema: ErrorBody },
        404: { description: 'a cursor this list did not give out', schema: ErrorBody },
      },
    },
    async ({ query }) => stockPage(services(deps), query),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/stock/movements',
      summary: 'Request a stock operation (receipt, issue, adjustment, transfer, incoming, cycle count); runs as a workflow keyed by its idempotency key',
      tags: ['stock'],
      access: 'upstream',
      source: sourceOf.warehouse,
      query: z.object({
        wait: z.coerce.number().int().min(0).max(60).default(10).describe('seconds to wait for the outcome before answering 202'),
      }),
      body: MovementRequest,
      responses: {
        200: { description: 'applied (or already applied with this key: result.replayed)', schema: MovementAccepted },
        202: { description: 'accepted; still running — look it up by workflowId', schema: MovementAccepted },
        400: { description: 'invalid request, unknown SKU or location', schema: ErrorBody },
        409: { description: 'refused: not enough stock, negative not allowed, a balance would leave its range, key reused for another request', schema: ErrorBody },
      },
    },
    async ({ body: op, query, reply }) => {
      const answer = await requestStockMovement(services(deps), op, Math.min(query.wait * 1000, deps.workflowWaitMs ?? Number.POSITIVE_INFINITY));
      return reply.status(answer.status === 'applied' ? 200 : 202).send(answer);
    },
  );
}
