import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { submitFeed } from '../../client/feeds';
import { startStockMovement } from '../../client/stock-movement';
import { addToCatalogue } from '../../db/catalogue';
import { mapSupplierSkus, registerSupplier } from '../../db/feeds';
import { getStockLevels } from '../../db/levels';
import { waitFor } from '../../runtime/wait';
import { FeedRules } from '../../schemas/feeds';
import { StockOperation } from '../../schemas/stock';
import { feedProgressQuery } from '../../workflows/supplier-feed-ingest';
import { createTestDatabase, infra, uniqueTaskQueue } from '../harness';
import { assertLedgerMatchesBalances } from '../ledger-assertions';
import { spawnWorker, type WorkerProcess } from './processes';

const FEED_LINES = Number(process.env.FAULT_FEED_LINES ?? 20_000);
const MOVEMENTS = Number(process.env.FAULT_MOVEMENTS ?? 500);
const SKUS = 500;

describe('fault: the worker is killed with SIGKILL in the middle of a wave', () => {
  it(`finishes a ${FEED_LINES}-line feed and ${MOVEMENTS} stock movements exactly once after the kill`, async () => {
    const database = await createTestDatabase();
    const taskQueue = uniqueTaskQueue('sigkill');
    const env = { temporalAddress: infra().temporalAddress, databaseUrl: database.url, taskQueue };
    let worker: WorkerProcess | undefined;
    try {
      await addToCatalogue(database.db, {
        locations: [
          { code: 'WH1', name: 'Warehouse 1' },
          { code: 'DS', name: 'Drop-ship' },
        ],
        items: [{ name: 'Fed', skus: Array.from({ length: SKUS }, (_, i) => `K-${i}`) }, { name: 'Received', skus: ['R-1'] }],
      });
      await registerSupplier(database.db, { id: 'acme', name: 'Acme', location: 'DS' });
      await mapSupplierSkus(database.db, 'acme', Array.from({ length: SKUS }, (_, i) => ({ supplierSku: `AK-${i}`, sku: `K-${i}` })));
      worker = await spawnWorker(env);

      const lines = Array.from({ length: FEED_LINES }, (_, i) => ({ sku: `AK-${i % SKUS}`, quantity: ((i * 7) % 40) + 1, sequence: Math.floor(i / SKUS) + 1 }));
      const feed = await submitFeed(database.db, infra().client, taskQueue, FeedRules.parse({ chunkSize: 500 }), { supplierId: 'acme', format: 'json', body: JSON.stringify({ feedId: 'wave', lines }) });
      const movements: WorkflowHandle[] = await Promise.all(
        Array.from({ length: MOVEMENTS }, (_, i) =>
          startStockMovement(infra().client, taskQueue, StockOperation.parse({ kind: 'receive', idempotencyKey: `wave/receive/${i}`, sku: 'R-1', location: 'WH1', quantity: 1 })),
        ),
      );
      const feedHandle = infra().client.workflow.getHandle(feed.workflowId);
      await waitFor('a quarter of the feed', async () => (((await feedHandle.query(feedProgressQuery).catch(() => undefined))?.nextLine ?? 0) > FEED_LINES / 4 ? true : undefined), {
        timeoutMs: 180_000,
      });

      await worker.kill('SIGKILL');
      const [{ n: partial }] = await database.sql`SELECT count(*)::int AS n FROM feed_lines`;
      assert.ok(partial < FEED_LINES, `killed part-way: ${partial} of ${FEED_LINES} lines recorded`);
      worker = await spawnWorker(env);

      const summary = await feedHandle.result();
      await Promise.all(movements.map((m) => m.result()));
      assert.equal(summary.counts.applied, FEED_LINES);
      const [{ n: recorded }] = await database.sql`SELECT count(*)::int AS n FROM feed_lines`;
      assert.equal(recorded, FEED_LINES, 'no line lost, none recorded twice');
      const [{ n: duplicates }] = await database.sql`SELECT count(*)::int AS n FROM (SELECT idempotency_key FROM stock_movements GROUP BY idempotency_key, variant_id, location_id HAVING count(*) > 1) d`;
      assert.equal(duplicates, 0);
      assert.equal((await getStockLevels(database.db, 'R-1'))?.total.onHand, MOVEMENTS);
      const [{ n: receipts }] = await database.sql`SELECT count(*)::int AS n FROM stock_movements WHERE idempotency_key LIKE 'wave/receive/%'`;
      assert.equal(receipts, MOVEMENTS);
      const lastPerSku = new Map<string, number>();
      for (const line of lines) lastPerSku.set(`K-${line.sku.slice(3)}`, line.quantity);
      for (const [sku, quantity] of lastPerSku) assert.equal((await getStockLevels(database.db, sku))?.total.onHand, quantity, sku);
      await assertLedgerMatchesBalances(database);
    } finally {
      await worker?.kill('SIGTERM');
      await database.close();
    }
  });
});
