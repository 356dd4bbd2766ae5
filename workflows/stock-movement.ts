import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OperationResult, StockOperationInput } from '../schemas/stock';
import { refusalOf, type Refusal } from './refusal';

const { applyStockOperation } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export type MovementOutcome = { status: 'applied'; result: OperationResult } | ({ status: 'refused' } & Refusal);

/**
 * A requested stock operation (receipt, adjustment, transfer, cycle count…) from the API. The
 * workflow id is the request's idempotency key; the activity applies it exactly once. A business
 * refusal (unknown SKU, not enough stock) is an outcome, not a failure.
 */
export async function stockMovement(op: StockOperationInput): Promise<MovementOutcome> {
  try {
    return { status: 'applied', result: await applyStockOperation(op) };
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal) return { status: 'refused', ...refusal };
    throw error;
  }
}
