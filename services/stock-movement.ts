import type { Client, WorkflowHandle } from '@temporalio/client';
import { claimedRequestHash, locate, operationRequestHash } from '../db/stock';
import { workflowIds } from '../domain/keys';
import { Refusal, type RefusalCode } from '../domain/refusal';
import type { MovementRequest, OperationResult, StockOperation } from '../schemas/stock';
import { Sku, StockflowFlow } from '../workflows/search-attributes';
import type { MovementOutcome, stockMovement } from '../workflows/stock-movement';
import type { Services } from './context';
import { resultWithin, startOrAttach } from './outcome';

export type MovementAnswer = { status: 'applied'; workflowId: string; result: OperationResult } | { status: 'running'; workflowId: string };

/**
 * A stock operation asked for through the API: refused up front when the workflow would refuse
 * it anyway (unknown SKU or location, a key reused for another request), so a bad request starts
 * nothing; otherwise run as its workflow, answering with the outcome if it comes within `waitMs`.
 */
export async function requestStockMovement(s: Services, op: MovementRequest, waitMs: number): Promise<MovementAnswer> {
  await checkReferences(s, op);
  const handle = await startStockMovement(s.client, s.taskQueue, op);
  const outcome = await resultWithin<MovementOutcome>(handle, waitMs);
  if (!outcome) return { status: 'running', workflowId: handle.workflowId };
  if (outcome.status === 'refused') throw new Refusal(outcome.code as RefusalCode, outcome.message, outcome.field);
  return { status: 'applied', workflowId: handle.workflowId, result: outcome.result };
}

async function checkReferences(s: Services, op: MovementRequest): Promise<void> {
  if (op.kind === 'transfer') {
    await locate(s.db, op.sku, op.from, 'from');
    await locate(s.db, op.sku, op.to, 'to');
  } else {
    await locate(s.db, op.sku, op.location);
  }
  const claimed = await claimedRequestHash(s.db, op.idempotencyKey);
  if (claimed !== undefined && claimed !== operationRequestHash(op)) {
    throw new Refusal('idempotency_conflict', `"${op.idempotencyKey}" was already used for a different request`, 'idempotencyKey');
  }
}

/** Starts the stockMovement workflow for an operation; its id is the operation's idempotency key. */
export function startStockMovement(client: Client, taskQueue: string, op: StockOperation): Promise<WorkflowHandle<typeof stockMovement>> {
  const workflowId = workflowIds.stockMovement(op.idempotencyKey);
  return startOrAttach(client, workflowId, () =>
    client.workflow.start<typeof stockMovement>('stockMovement', {
      taskQueue,
      workflowId,
      args: [op],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: StockflowFlow, value: 'stockMovement' },
        ...('sku' in op ? [{ key: Sku, value: op.sku }] : []),
      ],
      staticSummary: summarise(op),
    }),
  ) as Promise<WorkflowHandle<typeof stockMovement>>;
}

function summarise(op: StockOperation): string {
  switch (op.kind) {
    case 'receive':
    case 'issue':
    case 'reserve':
    case 'expect_incoming':
    case 'receive_incoming':
    case 'cancel_incoming':
      return `${op.kind} ${op.quantity} × ${op.sku} at ${op.location}`;
    case 'adjust':
      return `adjust ${op.sku} at ${op.location} by ${op.delta} (${op.reasonCode})`;
    case 'transfer':
      return `transfer ${op.quantity} × ${op.sku} from ${op.from} to ${op.to}`;
    case 'set_incoming':
      return `${op.quantity} × ${op.sku} incoming to ${op.location}`;
    case 'set_on_hand':
      return `set on hand of ${op.sku} at ${op.location} to ${op.quantity}`;
    case 'cycle_count':
      return `cycle count of ${op.sku} at ${op.location}: ${op.counted}`;
    case 'resolve_count_flag':
      return `resolve count flag on ${op.sku} at ${op.location}`;
    case 'release':
    case 'commit':
    case 'ship':
    case 'unpick':
      return `${op.kind} reservation ${op.reservationKey}`;
  }
}
