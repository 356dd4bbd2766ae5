import type { Client, WorkflowHandle } from '@temporalio/client';
import type { StockOperation } from '../schemas/stock';
import { workflowIds } from '../domain/keys';
import { Sku, StockflowFlow } from '../workflows/search-attributes';
import type { stockMovement } from '../workflows/stock-movement';
import { startOrAttach } from './outcome';

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
