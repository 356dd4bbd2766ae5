import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { StockRefusal } from '../db/errors';
import { mapSupplierSkus, registerSupplier } from '../db/suppliers';
import { getStockLevels } from '../db/levels';
import { applyStockOperation } from '../db/stock';
import { waitFor } from '../runtime/wait';
import { StockOperation, type StockOperationInput } from '../schemas/stock';
import type { FeedSummary } from '../workflows/supplier-feed-ingest';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, type RunningWorker } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

const TOKEN = 'limits-token';
/** Long enough for a workflow on a loaded machine; a request that retries forever never gets there. */
const SETTLES_WITHIN_MS = 60_000;

async function refusalOf(work: Promise<unknown>): Promise<StockRefusal> {
  try {
    await work;
  } catch (error) {
    if (error instanceof StockRefusal) return error;
    throw error;
  }
  assert.fail('expected a refusal');
}

describe('ledger limits: figures beyond the range of a balance', () => {
  let database: Database;
  let worker: RunningWorker;
  let app: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, {
      locations: [
        { code: 'WH1', name: 'Warehouse 1' },
        { code: 'WH2', name: 'Warehouse 2' },
        { code: 'VENDOR', name: 'Vendor-managed stock' },
      ],
      items: [{ name: 'Bulk', skus: ['L-BIG', 'L-API', 'L-COUNT', 'L-CASE', 'L-UNIT'] }],
    });
    await registerSupplier(database.db, { id: 'bulkco', name: 'BulkCo', location: 'VENDOR' });
    await mapSupplierSkus(database.db, 'bulkco', [
      { supplierSku: 'CASE-12', sku: 'L-CASE', unitFactor: 12 },
      { supplierSku: 'UNIT', sku: 'L-UNIT' },
    ]);
    worker = await startTestWorker(database, 'limits');
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: TOKEN });
  });

  after(async () => {
    await app?.close();
    await worker?.stop();
    await assertLedgerMatchesBalances(database);
    await database?.close();
  });

  const apply = (input: StockOperationInput) => applyStockOperation(database.db, StockOperation.parse(input));
  const receive = (key: string, sku: string, quantity: number, location = 'WH1') => apply({ kind: 'receive', idempotencyKey: key, sku, location, quantity });

  it('refuses a receipt that would take on hand past 2,147,483,647, naming the figure and the limit, and changes nothing', async () => {
    await receive('big-1', 'L-BIG', 1_000_000_000);
    await receive('big-2', 'L-BIG', 1_000_000_000);
    const refusal = await refusalOf(receive('big-3', 'L-BIG', 1_000_000_000));
    assert.equal(refusal.code, 'quantity_out_of_range');
    assert.equal(refusal.field, 'quantity');
    assert.equal(refusal.message, 'receive: on hand of L-BIG at WH1 would be 3,000,000,000, above 2,147,483,647, the most a stock balance can hold');
    assert.equal((await getStockLevels(database.db, 'L-BIG'))?.total.onHand, 2_000_000_000);
    const [{ n }] = await database.sql`SELECT count(*)::int AS n FROM stock_operations WHERE idempotency_key = 'big-3'`;
    assert.equal(n, 0, 'the key is not claimed: the same key may be sent again with a figure that fits');
    assert.equal((await receive('big-3', 'L-BIG', 147_483_647)).balances[0].onHand, 2_147_483_647);
  });

  it('refuses a transfer into a full balance, naming the destination', async () => {
    await receive('big-wh2', 'L-BIG', 5, 'WH2');
    const refusal = await refusalOf(apply({ kind: 'transfer', idempotencyKey: 'big-move', sku: 'L-BIG', from: 'WH2', to: 'WH1', quantity: 5 }));
    assert.equal(refusal.code, 'quantity_out_of_range');
    assert.match(refusal.message, /^transfer: on hand of L-BIG at WH1 would be 2,147,483,652, above 2,147,483,647/);
    assert.deepEqual((await getStockLevels(database.db, 'L-BIG'))?.locations.map((l) => [l.location, l.onHand]), [
      ['WH1', 2_147_483_647],
      ['WH2', 5],
    ]);
  });

  it('answers an overflowing receipt posted to the API with a refusal of its workflow, not an activity retrying forever', async () => {
    const post = (idempotencyKey: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/stock/movements?wait=0',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        payload: JSON.stringify({ kind: 'receive', idempotencyKey, sku: 'L-API', location: 'WH1', quantity: 1_000_000_000 }),
      });
    for (const key of ['api-1', 'api-2']) {
      const response = await post(key);
      assert.equal(response.statusCode === 200 || response.statusCode === 202, true, response.body);
      await infra().client.workflow.getHandle(response.json().workflowId).result();
    }
    const response = await post('api-3');
    const handle = infra().client.workflow.getHandle(response.json().workflowId);
    await waitFor('the workflow to end', async () => ((await handle.describe()).status.name === 'RUNNING' ? undefined : true), { timeoutMs: SETTLES_WITHIN_MS });
    assert.deepEqual(await handle.result(), {
      status: 'refused',
      code: 'quantity_out_of_range',
      message: 'receive: on hand of L-API at WH1 would be 3,000,000,000, above 2,147,483,647, the most a stock balance can hold',
      field: 'quantity',
    });
    assert.equal((await getStockLevels(database.db, 'L-API'))?.total.onHand, 2_000_000_000);
  });

  it('records a count of a billion where one unit was expected: its variance share fits its column', async () => {
    await receive('count-base', 'L-COUNT', 1);
    const counted = await apply({ kind: 'cycle_count', idempotencyKey: 'count-huge', sku: 'L-COUNT', location: 'WH1', counted: 1_000_000_000 });
    assert.deepEqual(counted.cycleCount, { expected: 1, counted: 1_000_000_000, variance: 999_999_999, variancePct: 99_999_999_900, outcome: 'blocked' });
    const [row] = await database.sql`SELECT variance_pct::text AS pct FROM cycle_counts WHERE idempotency_key = 'count-huge'`;
    assert.equal(row.pct, '99999999900.00');
  });

  it('rejects a feed line whose quantity times its unit factor is beyond what one line may set; the feed finishes', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/suppliers/bulkco/feeds',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      payload: JSON.stringify({
        feedId: 'range-1',
        lines: [
          { sku: 'CASE-12', quantity: 200_000_000, sequence: 1 },
          { sku: 'UNIT', quantity: 7, sequence: 1 },
        ],
      }),
    });
    assert.equal(response.statusCode, 202, response.body);
    const handle = infra().client.workflow.getHandle(response.json().workflowId);
    await waitFor('the feed to finish', async () => ((await handle.describe()).status.name === 'RUNNING' ? undefined : true), { timeoutMs: SETTLES_WITHIN_MS });
    const summary: FeedSummary = await handle.result();
    assert.equal(summary.phase, 'done');
    assert.deepEqual([summary.counts.read, summary.counts.applied, summary.counts.rejected, summary.counts.held], [2, 1, 1, 0]);
    const lines = await database.sql`SELECT l.line_no, l.outcome, l.reason, l.quantity FROM feed_lines l JOIN supplier_feeds f ON f.id = l.feed_pk
      WHERE f.feed_id = 'range-1' ORDER BY l.line_no`;
    assert.deepEqual(lines.map((l) => [l.line_no, l.outcome, l.reason, l.quantity]), [
      [1, 'rejected', 'quantity 200,000,000 × unit factor 12 = 2,400,000,000 base units, beyond ±1,000,000,000, the most one line may set', null],
      [2, 'applied', null, 7],
    ]);
    const [feed] = await database.sql`SELECT status FROM supplier_feeds WHERE feed_id = 'range-1'`;
    assert.equal(feed.status, 'applied');
    assert.deepEqual((await getStockLevels(database.db, 'L-CASE'))?.locations, [], 'nothing set for the rejected line');
    assert.equal((await getStockLevels(database.db, 'L-UNIT'))?.total.onHand, 7);
  });
});
