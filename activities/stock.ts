import type { Db } from '../db/connection';
import { applyStockOperation as applyToLedger } from '../db/stock';
import { Refusal } from '../domain/refusal';
import { metrics } from '../runtime/metrics';
import { StockOperation, type OperationResult, type StockOperationInput } from '../schemas/stock';

export function createStockActivities(db: Db) {
  return {
    /** Applies one stock operation exactly once per idempotency key (see db/stock.ts). */
    async applyStockOperation(input: StockOperationInput): Promise<OperationResult> {
      try {
        const result = await applyToLedger(db, StockOperation.parse(input));
        if (!result.replayed) metrics.movementsApplied.inc({ kind: result.kind });
        return result;
      } catch (error) {
        if (error instanceof Refusal) metrics.refusals.inc({ code: error.code });
        throw error;
      }
    },
  };
}
