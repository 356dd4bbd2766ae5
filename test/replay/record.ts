/**
 * Records one history per workflow into test/fixtures/histories, for the replay test. Run it
 * (`npm run record-histories`) when a workflow changes on purpose and the change is versioned
 * (patched) or no running workflow can be affected; then commit the new fixtures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startStockMovement } from '../../client/stock-movement';
import { addToCatalogue } from '../../db/catalogue';
import { StockOperation } from '../../schemas/stock';
import { createTestDatabase, infra, startInfra, startTestWorker, stopInfra } from '../harness';

export const HISTORIES_DIR = path.join(__dirname, '..', 'fixtures', 'histories');

async function record(): Promise<void> {
  await startInfra();
  const database = await createTestDatabase();
  const worker = await startTestWorker(database, 'record');
  try {
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Thing', skus: ['T-1'] }] });
    const client = infra().client;
    const scenarios: Record<string, () => Promise<{ workflowId: string }>> = {
      'stockMovement-applied': async () => {
        const handle = await startStockMovement(client, worker.taskQueue, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/receive', sku: 'T-1', location: 'WH1', quantity: 5 }));
        await handle.result();
        return handle;
      },
      'stockMovement-refused': async () => {
        const handle = await startStockMovement(client, worker.taskQueue, StockOperation.parse({ kind: 'issue', idempotencyKey: 'record/issue', sku: 'T-1', location: 'WH1', quantity: 50 }));
        await handle.result();
        return handle;
      },
    };
    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const [name, run] of Object.entries(scenarios)) {
      const { workflowId } = await run();
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), `${historyToJSON(history)}\n`);
      console.log(`recorded ${name}`);
    }
  } finally {
    await worker.stop();
    await database.close();
    await stopInfra();
  }
}

record().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
