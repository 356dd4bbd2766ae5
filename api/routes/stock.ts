import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { startStockMovement } from '../../services/stock-movement';
import { resultWithin } from '../../services/outcome';
import { StockRefusal } from '../../db/errors';
import { getStockLevels } from '../../db/levels';
import { claimedRequestHash, locate, operationRequestHash } from '../../db/stock';
import { Sku } from '../../schemas/common';
import { MovementRequest, OperationResult, StockLevels, type StockRefusalCode } from '../../schemas/stock';
import type { MovementOutcome } from '../../workflows/stock-movement';
import { ErrorBody, fieldError } from '../errors';
import { route } from '../route';
import type { ApiDeps } from '../server';

const REFUSAL_STATUS: Record<StockRefusalCode, number> = {
  unknown_sku: 400,
  unknown_location: 400,
  unknown_supplier: 404,
  unknown_reservation: 400,
  insufficient_stock: 409,
  negative_not_allowed: 409,
  selling_blocked: 409,
  reservation_not_active: 409,
  reservation_not_committed: 409,
  idempotency_conflict: 409,
  quantity_out_of_range: 409,
};

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
      responses: { 200: { description: 'stock levels', schema: StockLevels }, 404: { description: 'unknown SKU', schema: ErrorBody } },
    },
    async ({ params }) => {
      const levels = await getStockLevels(deps.database.db, params.sku);
      if (!levels) throw fieldError(404, 'unknown_sku', 'sku', `no SKU "${params.sku}"`);
      return levels;
    },
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/stock/movements',
      summary: 'Request a stock operation (receipt, issue, adjustment, transfer, incoming, cycle count); runs as a workflow keyed by its idempotency key',
      tags: ['stock'],
      access: 'upstream',
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
      await checkReferences(deps, op);
      const handle = await startStockMovement(deps.client, deps.taskQueue, op);
      const waitMs = Math.min(query.wait * 1000, deps.workflowWaitMs ?? Number.POSITIVE_INFINITY);
      const outcome = await resultWithin<MovementOutcome>(handle, waitMs);
      if (!outcome) return reply.status(202).send({ status: 'running', workflowId: handle.workflowId });
      if (outcome.status === 'refused') {
        throw fieldError(REFUSAL_STATUS[outcome.code as StockRefusalCode] ?? 409, outcome.code, outcome.field, outcome.message);
      }
      return { status: 'applied', workflowId: handle.workflowId, result: outcome.result };
    },
  );
}

/** Refuses up front what the workflow would refuse anyway, so a bad request starts nothing. */
async function checkReferences(deps: ApiDeps, op: MovementRequest): Promise<void> {
  try {
    if (op.kind === 'transfer') {
      await locate(deps.database.db, op.sku, op.from, 'from');
      await locate(deps.database.db, op.sku, op.to, 'to');
    } else {
      await locate(deps.database.db, op.sku, op.location);
    }
  } catch (error) {
    if (error instanceof StockRefusal) throw fieldError(400, error.code, error.field, error.message);
    throw error;
  }
  const claimed = await claimedRequestHash(deps.database.db, op.idempotencyKey);
  if (claimed !== undefined && claimed !== operationRequestHash(op)) {
    throw fieldError(409, 'idempotency_conflict', 'idempotencyKey', `"${op.idempotencyKey}" was already used for a different request`);
  }
}
