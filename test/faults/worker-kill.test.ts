import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { submitFeed } from '../../services/feeds';
import { receiveOrderEvent } from '../../services/orders';
import { startStockMovement } from '../../services/stock-movement';
import { addToCatalogue } from '../../db/catalogue';
import { mapSupplierSkus, registerSupplier } from '../../db/suppliers';
import { getStockLevels } from '../../db/levels';
import { replaceOwnership } from '../../db/ownership';
import { applyStockOperation } from '../../db/stock';
import { OrderEvent, OrderWindows } from '../../schemas/orders';
import { waitFor } from '../../runtime/wait';
import { StockOperation } from '../../schemas/stock';
import { feedProgressQuery } from '../../workflows/supplier-feed-ingest';
import { createTestDatabase, infra, servicesFor, uniqueTaskQueue } from '../harness';
import { assertLedgerMatchesBalances } from '../ledger-assertions';
import { spawnWorker, type WorkerProcess } from './processes';
import { DEFAULT_CONFIG, feedRulesOf, orderWindowsOf } from '../../schemas/config';

const FEED_LINES = Number(process.env.FAULT_FEED_LINES ?? 20_000);
const MOVEMENTS = Number(process.env.FAULT_MOVEMENTS ?? 500);
const ORDERS = Number(process.env.FAULT_ORDERS ?? 500);
/** Fewer units than orders, so the wave also proves no oversell across the kill. */
const ORDER_STOCK = Math.floor(ORDERS * 0.8);
const SKUS = 500;

describe('fault: the worker is killed with SIGKILL in the middle of a wave', () => {
  it(`finishes a ${FEED_LINES}-line feed, ${MOVEMENTS} stock movements and ${ORDERS} orders exactly once after the kill`, async () => {
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
        items: [{ name: 'Fed', skus: Array.from({ length: SKUS }, (_, i) => `K-${i}`) }, { name: 'Received', skus: ['R-1'] }, { name: 'Ordered', skus: ['O-1'] }],
      });
      await replaceOwnership(database.db, {
        owners: [{ id: 'ops', name: 'Ops', contact: 'ops@example.com' }],
        rules: [{ owner: 'ops', backup: 'ops', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' }],
      });
      await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'wave/stock-orders', sku: 'O-1', location: 'WH1', quantity: ORDER_STOCK }));
      await registerSupplier(database.db, { id: 'acme', name: 'Acme', location: 'DS' });
      await mapSupplierSkus(database.db, 'acme', Array.from({ length: SKUS }, (_, i) => ({ supplierSku: `AK-${i}`, sku: `K-${i}` })));
      worker = await spawnWorker(env);

      const lines = Array.from({ length: FEED_LINES }, (_, i) => ({ sku: `AK-${i % SKUS}`, quantity: ((i * 7) % 40) + 1, sequence: Math.floor(i / SKUS) + 1 }));
      const feed = await submitFeed(servicesFor(database, taskQueue, { feedRules: { ...feedRulesOf(DEFAULT_CONFIG), chunkSize: 500 } }), { supplierId: 'acme', format: 'json', body: JSON.stringify({ feedId: 'wave', lines }) });
      const movements: WorkflowHandle[] = await Promise.all(
        Array.from({ length: MOVEMENTS }, (_, i) =>
          startStockMovement(infra().client, taskQueue, StockOperation.parse({ kind: 'receive', idempotencyKey: `wave/receive/${i}`, sku: 'R-1', location: 'WH1', quantity: 1 })),
        ),
      );
      const windows = OrderWindows.parse({ ...orderWindowsOf(DEFAULT_CONFIG), paymentWindow: '1h', fulfilmentWindow: '1h' });
      const orders = await Promise.all(
        Array.from({ length: ORDERS }, (_, i) =>
          receiveOrderEvent(servicesFor(database, taskQueue, { orderWindows: windows }), OrderEvent.parse({ type: 'order.placed', eventId: `wave-${i}`, orderId: `wave-${i}`, channel: 'shop', location: 'WH1', lines: [{ sku: 'O-1', quantity: 1 }] })),
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
      const states = await waitFor(
        'every order to be reserved or rejected',
        async () => {
          const rows = await database.sql`SELECT state, count(*)::int AS n FROM orders GROUP BY state ORDER BY state`;
          const byState = Object.fromEntries(rows.map((r) => [r.state, r.n]));
          return (byState.reserved ?? 0) + (byState.rejected ?? 0) === ORDERS ? byState : undefined;
        },
        { timeoutMs: 300_000 },
      );
      assert.deepEqual(states, { rejected: ORDERS - ORDER_STOCK, reserved: ORDER_STOCK }, `${orders.length} orders delivered`);
      assert.deepEqual((await getStockLevels(database.db, 'O-1'))?.total, { onHand: ORDER_STOCK, reserved: ORDER_STOCK, committed: 0, incoming: 0, available: 0 });
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
