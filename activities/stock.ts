import type { Db } from '../db/connection';
import { applyStockOperation as applyToLedger } from '../db/stock';
import { StockOperation, type OperationResult, type StockOperationInput } from '../schemas/stock';
import { parseInput, refusalsAreFinal } from './failures';

export function createStockActivities(db: Db) {
  return {
    /** Applies one stock operation exactly once per idempotency key (see db/stock.ts). */
    async applyStockOperation(input: StockOperationInput): Promise<OperationResult> {
      const op = parseInput(StockOperation, input);
      return refusalsAreFinal(() => applyToLedger(db, op));
    },
  };
}
