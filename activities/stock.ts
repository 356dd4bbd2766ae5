import type { Db } from '../db/connection';
import { applyStockOperation as applyToLedger } from '../db/stock';
import { StockOperation, type OperationResult, type StockOperationInput } from '../schemas/stock';

export function createStockActivities(db: Db) {
  return {
    /** Applies one stock operation exactly once per idempotency key (see db/stock.ts). */
    async applyStockOperation(input: StockOperationInput): Promise<OperationResult> {
      return applyToLedger(db, StockOperation.parse(input));
    },
  };
}
