import assert from 'node:assert/strict';
import { startStockMovement } from '../services/stock-movement';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { getStockLevels } from '../db/levels';
import { StockOperation } from '../schemas/stock';
import { Sku, StockflowFlow } from '../workflows/search-attributes';
import { createTestDatabase, infra, startTestWorker, type RunningWorker } from './harness';

describe('stockMovement workflow', () => {
  let database: Database;
  let worker: RunningWorker;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Thing', skus: ['T-1'] }] });
    worker = await startTestWorker(database, 'movement');
  });

  after(async () => {
    await worker?.stop();
    await database?.close();
  });

  it('applies the operation and tags the run for the Temporal UI', async () => {
    const op = StockOperation.parse({ kind: 'receive', idempotencyKey: 'wf-rcv-1', sku: 'T-1', location: 'WH1', quantity: 9 });
    const handle = await startStockMovement(infra().client, worker.taskQueue, op);
    const outcome = await handle.result();
    assert.equal(outcome.status, 'applied');
    assert.equal((await getStockLevels(database.db, 'T-1'))?.total.onHand, 9);
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(StockflowFlow), 'stockMovement');
    assert.equal(description.typedSearchAttributes.get(Sku), 'T-1');
  });

  it('returns a business refusal as an outcome, not a failed workflow', async () => {
    const op = StockOperation.parse({ kind: 'issue', idempotencyKey: 'wf-issue-1', sku: 'T-1', location: 'WH1', quantity: 100 });
    const handle = await startStockMovement(infra().client, worker.taskQueue, op);
    const outcome = await handle.result();
    assert.deepEqual(outcome, {
      status: 'refused',
      code: 'insufficient_stock',
      message: 'only 9 of T-1 available at WH1, 100 requested',
      field: 'quantity',
    });
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  });

  it('attaches to the existing run when the same key is started again, even after it finished', async () => {
    const op = StockOperation.parse({ kind: 'receive', idempotencyKey: 'wf-rcv-1', sku: 'T-1', location: 'WH1', quantity: 9 });
    const first = await startStockMovement(infra().client, worker.taskQueue, op);
    const again = await startStockMovement(infra().client, worker.taskQueue, op);
    assert.equal(again.workflowId, first.workflowId);
    const runs = await infra().client.workflow.count(`WorkflowId = '${first.workflowId}'`);
    assert.equal(runs.count, 1);
    assert.equal((await getStockLevels(database.db, 'T-1'))?.total.onHand, 9);
  });
});
