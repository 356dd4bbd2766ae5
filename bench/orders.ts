import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import { connect } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { reconcile } from '../db/reconciliation';
import { applyStockOperation } from '../db/stock';
import { waitFor } from '../runtime/wait';
import { StockOperation } from '../schemas/stock';
import { bundleWorkflows, createWorker, quietBundlerLogger } from '../workers/worker';
import { startBenchApp } from './common';

const ORDERS = 300;
/** Orders (or baseline workflows) in flight at once, like that many shoppers checking out together. */
const CLIENTS = 50;
const SKUS = 20;
const TARGET_RATIO = 0.6;
const ORDER_QUEUE = 'bench-orders';
const BASELINE_QUEUE = 'bench-noop';

/**
 * Orders end to end through the API (placed → paid → accepted → shipped, all events sent at once,
 * as a busy channel would) against a baseline on the same Temporal server and worker process: a
 * workflow making as many no-op activity calls as one order makes. The ratio of their rates says
 * what the order logic and its database work cost on top of the orchestration. True if every
 * order closed and the ledger held.
 */
export async function benchOrders(databaseUrl: string): Promise<boolean> {
  const bench = await startBenchApp(databaseUrl, { taskQueue: ORDER_QUEUE });
  const { database, client } = bench.app;
  let api: FastifyInstance | undefined;
  const workers: Worker[] = [];
  const runs: Promise<void>[] = [];
  try {
    await seed(databaseUrl);
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const workerOptions = await bench.app.workerOptions();
    const [orderBundle, noopBundle] = await Promise.all([
      bundleWorkflows(),
      bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'noop-workflow.ts'), logger: quietBundlerLogger }),
    ]);
    workers.push(
      await createWorker({ ...workerOptions, workflowBundle: orderBundle }),
      await Worker.create({ connection: workerOptions.connection, taskQueue: BASELINE_QUEUE, workflowBundle: noopBundle, activities: { noop: async () => undefined } }),
    );
    runs.push(...workers.map((w) => w.run()));
    api = await buildApi(bench.app.apiDeps());

    const calls = await activitiesPerOrder(api, client, database);
    console.log(`${ORDERS} orders of one line over ${SKUS} SKUs, ${CLIENTS} in flight; baseline: ${ORDERS} workflows of ${calls} no-op activity calls, ${CLIENTS} in flight`);
    const orders = await runOrders(api, database, 'run');
    const baseline = await runBaseline(client, calls);
    const ratio = orders.perSecond / baseline.perSecond;
    // The daily reconciliation's own check: every balance equals the sum of its ledger movements.
    const drifted = (await reconcile(database.db, 'bench/orders')).deltas.filter((d) => d.kind === 'ledger_drift').length;
    console.log(
      [
        `orders    ${orders.perSecond.toFixed(1)} orders/s end to end (${orders.seconds.toFixed(1)} s); placed → reserved p50 ${orders.p50} ms, p99 ${orders.p99} ms`,
        `baseline  ${baseline.perSecond.toFixed(1)} workflows/s (${baseline.seconds.toFixed(1)} s)`,
        `ratio     ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
        `checks    ${orders.closed}/${ORDERS} closed, ${drifted} balances drifted from the ledger`,
      ].join('\n'),
    );
    return orders.closed === ORDERS && drifted === 0;
  } finally {
    await api?.close();
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.all(runs);
    await bench.stop();
  }
}

async function seed(databaseUrl: string): Promise<void> {
  const control = connect(databaseUrl, { max: 2 });
  try {
    await replaceOwnership(control.db, {
      owners: [{ id: 'bench', name: 'Bench', contact: 'bench@example.com' }],
      rules: [{ owner: 'bench', backup: 'bench', escalation: 'bench', ackSla: '1h', resolutionSla: '1d' }],
    });
    const skus = Array.from({ length: SKUS }, (_, i) => `BENCH-${i}`);
    await addToCatalogue(control.db, { locations: [{ code: 'WH1', name: 'Bench' }], items: [{ name: 'Bench item', skus }] });
    for (const sku of skus) {
      await applyStockOperation(control.db, StockOperation.parse({ kind: 'receive', idempotencyKey: `bench/${sku}`, sku, location: 'WH1', quantity: 10 * ORDERS }));
    }
  } finally {
    await control.close();
  }
}

type Api = FastifyInstance;

async function post(api: Api, body: Record<string, unknown>): Promise<void> {
  const response = await api.inject({ method: 'POST', url: '/v1/orders/events', payload: body });
  if (response.statusCode !== 202) throw new Error(`event refused: ${response.statusCode} ${response.body}`);
}

/** All four events of one order, sent back to back; the workflow takes them as facts in any order. */
async function placeOrder(api: Api, run: string, i: number): Promise<void> {
  const order = { orderId: `${run}-${i}`, channel: 'bench' };
  await post(api, { type: 'order.placed', eventId: `${run}-${i}-placed`, ...order, location: 'WH1', lines: [{ sku: `BENCH-${i % SKUS}`, quantity: 1 }] });
  for (const type of ['order.paid', 'fulfilment.accepted', 'fulfilment.shipped']) await post(api, { type, eventId: `${run}-${i}-${type}`, ...order });
}

async function inFlight(count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** How many activities one order makes, counted from the history of a warm-up order. */
async function activitiesPerOrder(api: Api, client: Client, database: ReturnType<typeof connect>): Promise<number> {
  await placeOrder(api, 'warm', 0);
  await waitForClosed(database, 'warm', 1);
  const history = await client.workflow.getHandle('order/bench/warm-0').fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
}

async function waitForClosed(database: ReturnType<typeof connect>, run: string, count: number): Promise<number> {
  return waitFor(
    `${count} ${run} orders to close`,
    async () => {
      const [row] = await database.sql`SELECT count(*)::int AS n FROM orders WHERE order_id LIKE ${`${run}-%`} AND state = 'closed'`;
      return row.n === count ? row.n : undefined;
    },
    { timeoutMs: 600_000, intervalMs: 200 },
  );
}

async function runOrders(api: Api, database: ReturnType<typeof connect>, run: string) {
  const started = performance.now();
  await inFlight(ORDERS, (i) => placeOrder(api, run, i));
  const closed = await waitForClosed(database, run, ORDERS);
  const seconds = (performance.now() - started) / 1000;
  // Placed → reserved from the database's own clock: when the API stored the event, when the reservation was recorded.
  const latencies = await database.sql`
    SELECT extract(epoch FROM t.at - e.received_at) * 1000 AS ms
    FROM orders o
    JOIN order_transitions t ON t.order_pk = o.id AND t.to_state = 'reserved'
    JOIN order_events e ON e.channel = o.channel AND e.order_id = o.order_id AND e.type = 'order.placed'
    WHERE o.order_id LIKE ${`${run}-%`}
    ORDER BY ms`;
  const ms = latencies.map((r) => Number(r.ms));
  const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]);
  return { closed, seconds, perSecond: ORDERS / seconds, p50: at(0.5), p99: at(0.99) };
}

async function runBaseline(client: Client, calls: number) {
  const started = performance.now();
  const handles: Promise<unknown>[] = [];
  await inFlight(ORDERS, async (i) => {
    const handle = await client.workflow.start('noopCalls', { taskQueue: BASELINE_QUEUE, workflowId: `noop-${i}`, args: [calls] });
    handles.push(handle.result());
  });
  await Promise.all(handles);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, perSecond: ORDERS / seconds };
}

