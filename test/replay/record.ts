/**
 * Records one history per workflow into test/fixtures/histories, for the replay test. Run it
 * (`npm run record-histories`) when a workflow changes on purpose and the change is versioned
 * (patched) or no running workflow can be affected; then commit the new fixtures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startStockMovement } from '../../services/stock-movement';
import { addToCatalogue } from '../../db/catalogue';
import { decideException, exceptionState, raiseException } from '../../services/exceptions';
import { receiveOrderEvent, retryFulfilment } from '../../services/orders';
import { extendCartHold, holdCartLines } from '../../services/carts';
import { startReconciliationNow } from '../../services/reconciliation';
import { importSnapshot } from '../../db/reconciliation';
import { applyStockOperation } from '../../db/stock';
import type { OrderEvent } from '../../schemas/orders';
import { orderQuery } from '../../workflows/order-messages';
import { approveSignal, decideUpdate } from '../../workflows/exception-messages';
import { submitFeed } from '../../services/feeds';
import { submitImport } from '../../services/catalogue';
import { mapSupplierSkus, registerSupplier } from '../../db/suppliers';
import { replaceOwnership } from '../../db/ownership';
import { waitFor } from '../../runtime/wait';
import { RaiseException } from '../../schemas/exceptions';
import { StockOperation } from '../../schemas/stock';
import { workflowIds } from '../../domain/keys';
import { registerChannel } from '../../db/channels';
import { ChannelRegistration } from '../../schemas/channels';
import { ensureChannelSync } from '../../services/channels';
import { WebhookReceiver } from '../contract/webhook-receiver';
import { createTestDatabase, infra, servicesFor, startInfra, startTestWorker, stopInfra } from '../harness';
import { countingRulesOf, DEFAULT_CONFIG, feedRulesOf, orderWindowsOf } from '../../schemas/config';
import { savePolicies } from '../../db/replenishment';
import { placePurchaseOrder, receivePurchaseOrder } from '../../services/purchase-orders';
import { purchaseOrderStateQuery } from '../../workflows/purchase-order-messages';

export const HISTORIES_DIR = path.join(__dirname, '..', 'fixtures', 'histories');

async function record(): Promise<void> {
  await startInfra();
  const database = await createTestDatabase();
  const worker = await startTestWorker(database, 'record', {
    alerts: [{ id: 'record-risk', kpi: 'revenueAtRisk', over: 0, measure: 'units', window: 86400, severity: 'high', playbook: 'Recount the blocked SKU.' }],
    // Every SKU-location due every working day, so the recorded planning makes a task whatever the day.
    counting: { ...countingRulesOf(DEFAULT_CONFIG), frequencies: { A: 1, B: 1, C: 1 } },
  });
  process.env.STOCKFLOW_RECORD_HOOK_SECRET = 'record-hook-secret';
  const receiver = new WebhookReceiver('record-hook-secret');
  const receiverUrl = await receiver.start();
  try {
    await addToCatalogue(database.db, {
      locations: [
        { code: 'WH1', name: 'Warehouse 1' },
        { code: 'SUP', name: 'Supplier stock' },
      ],
      items: [{ name: 'Thing', skus: ['T-1'] }, { name: 'Fed thing', skus: Array.from({ length: 10 }, (_, i) => `FT-${i}`) }],
    });
    await registerSupplier(database.db, { id: 'rec', name: 'Recording supplier', location: 'SUP' });
    await mapSupplierSkus(database.db, 'rec', Array.from({ length: 10 }, (_, i) => ({ supplierSku: `R${i}`, sku: `FT-${i}` })));
    await replaceOwnership(database.db, {
      owners: [
        { id: 'alice', name: 'Alice', contact: 'alice@example.com' },
        { id: 'bob', name: 'Bob', contact: 'bob@example.com' },
        { id: 'carol', name: 'Carol', contact: 'carol@example.com' },
        { id: 'frank', name: 'Frank', contact: 'frank@example.com' },
      ],
      rules: [{ owner: 'alice', backup: 'bob', escalation: 'carol', ackSla: 1, resolutionSla: '1h' }],
    });
    const client = infra().client;
    const orderEvent = (event: OrderEvent, windows = orderWindowsOf(DEFAULT_CONFIG)) => receiveOrderEvent(servicesFor(database, worker.taskQueue, { orderWindows: windows }), event).then((r) => r.receipt);
    const orderState = (workflowId: string, state: string) =>
      waitFor(`${workflowId} to be ${state}`, async () => ((await client.workflow.getHandle(workflowId).query(orderQuery).catch(() => undefined))?.state === state ? true : undefined));
    const scenarios: Record<string, () => Promise<{ workflowId: string }>> = {
      'stockMovement-applied': async () => {
        const handle = await startStockMovement(client, worker.taskQueue, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/receive', sku: 'T-1', location: 'WH1', quantity: 5 }));
        await handle.result();
        return handle;
      },
      'exceptionHold-escalated-then-approved': async () => {
        const handle = await raiseException(
          { client, taskQueue: worker.taskQueue },
          RaiseException.parse({
            type: 'record_check',
            subject: 'T-1',
            summary: 'recorded for the replay test',
            source: 'record',
            sku: 'T-1',
            requiresEvidence: true,
            heldChange: { kind: 'adjust', idempotencyKey: 'record/held', sku: 'T-1', location: 'WH1', delta: 2, reasonCode: 'found' },
          }),
        );
        await waitFor('the escalation', async () => ((await exceptionState(client, handle.workflowId).catch(() => undefined))?.escalationLevel === 1 ? true : undefined));
        await decideException({ db: database.db, client }, handle.workflowId, { action: 'comment', by: 'frank', reason: 'not mine' });
        await decideException({ db: database.db, client }, handle.workflowId, { action: 'acknowledge', by: 'bob' });
        await decideException({ db: database.db, client }, handle.workflowId, { action: 'approve', by: 'bob', reason: 'recounted', evidence: 'sheet 7' });
        await handle.result();
        return handle;
      },
      'exceptionHold-acknowledged-then-reassigned': async () => {
        const handle = await raiseException(
          { client, taskQueue: worker.taskQueue },
          RaiseException.parse({ type: 'record_ack', subject: 'T-1', summary: 'decided while its clock runs', source: 'record', sku: 'T-1' }),
        );
        await decideException({ db: database.db, client }, handle.workflowId, { action: 'acknowledge', by: 'alice' });
        await decideException({ db: database.db, client }, handle.workflowId, { action: 'reassign', by: 'alice', reason: 'on leave', to: 'frank' });
        await decideException({ db: database.db, client }, handle.workflowId, { action: 'reject', by: 'frank', reason: 'nothing to hold' });
        await handle.result();
        return handle;
      },
      'exceptionHold-decision-paths': async () => {
        const handle = await raiseException(
          { client, taskQueue: worker.taskQueue },
          RaiseException.parse({ type: 'record_paths', subject: 'T-1', summary: 'decided through the API after a UI signal and a bare update were refused', source: 'record', sku: 'T-1' }),
        );
        await waitFor('the exception to open', () => exceptionState(client, handle.workflowId).catch(() => undefined));
        await handle.signal(approveSignal, { by: 'alice', reason: 'from the UI' });
        await handle.executeUpdate(decideUpdate, { args: [{ action: 'approve', by: 'alice', reason: 'straight to Temporal' }] }).catch(() => undefined);
        await decideException({ db: database.db, client }, handle.workflowId, { action: 'acknowledge', by: 'alice' });
        await decideException({ db: database.db, client }, handle.workflowId, { action: 'approve', by: 'alice', reason: 'through the API' });
        await handle.result();
        return handle;
      },
      'ownerEscalation-escalated-then-resolved': async () => ({ workflowId: workflowIds.slaClock(workflowIds.exception('record_check', 'T-1')) }),
      'supplierFeedIngest-quarantined-then-approved': async () => {
        const lines = Array.from({ length: 10 }, (_, i) => ({ sku: `R${i}`, quantity: i < 5 ? -1 : 5, sequence: 1 }));
        const feed = await submitFeed(servicesFor(database, worker.taskQueue, { feedRules: { ...feedRulesOf(DEFAULT_CONFIG), chunkSize: 4 } }), { supplierId: 'rec', format: 'json', body: JSON.stringify({ feedId: 'rec-q', lines }) });
        const quarantine = workflowIds.exception('supplier_feed_quarantine', 'rec/rec-q');
        await waitFor('the quarantine', async () => ((await exceptionState(client, quarantine).catch(() => undefined))?.status === 'open' ? true : undefined));
        await decideException({ db: database.db, client }, quarantine, { action: 'approve', by: 'alice', reason: 'confirmed with the supplier' });
        await client.workflow.getHandle(feed.workflowId).result();
        return feed;
      },
      'supplierFeedIngest-held-and-unmapped': async () => {
        const lines = [{ sku: 'R6', quantity: 500, sequence: 2 }, { sku: 'R7', quantity: 6, sequence: 2 }, { sku: 'NOPE', quantity: 1, sequence: 1 }, { sku: 'R8', quantity: 'x', sequence: 2 }];
        const feed = await submitFeed(servicesFor(database, worker.taskQueue, { feedRules: { ...feedRulesOf(DEFAULT_CONFIG), chunkSize: 2 } }), { supplierId: 'rec', format: 'json', body: JSON.stringify({ feedId: 'rec-h', lines }) });
        await client.workflow.getHandle(feed.workflowId).result();
        return feed;
      },
      'stockMovement-refused': async () => {
        const handle = await startStockMovement(client, worker.taskQueue, StockOperation.parse({ kind: 'issue', idempotencyKey: 'record/issue', sku: 'T-1', location: 'WH1', quantity: 50 }));
        await handle.result();
        return handle;
      },
      'orderReconciliation-shipped': async () => {
        const order = { orderId: 'rec-1', channel: 'shop' };
        const { workflowId } = await orderEvent({ type: 'order.placed', eventId: 'rec-1/placed', ...order, location: 'WH1', lines: [{ sku: 'T-1', quantity: 1 }] });
        await orderState(workflowId, 'reserved');
        await orderEvent({ type: 'order.paid', eventId: 'rec-1/paid', ...order });
        await orderState(workflowId, 'fulfilment_requested');
        await orderEvent({ type: 'fulfilment.accepted', eventId: 'rec-1/accepted', ...order });
        await orderEvent({ type: 'fulfilment.shipped', eventId: 'rec-1/shipped', ...order });
        await client.workflow.getHandle(workflowId).result();
        return { workflowId };
      },
      'orderReconciliation-unacknowledged-then-cancelled': async () => {
        const order = { orderId: 'rec-2', channel: 'shop' };
        const windows = { ...orderWindowsOf(DEFAULT_CONFIG), fulfilmentWindow: 1 };
        const { workflowId } = await orderEvent({ type: 'order.placed', eventId: 'rec-2/placed', ...order, location: 'WH1', lines: [{ sku: 'T-1', quantity: 1 }] }, windows);
        await orderEvent({ type: 'order.paid', eventId: 'rec-2/paid', ...order }, windows);
        const handoff = workflowIds.exception('order_fulfilment', 'shop/rec-2/handoff');
        await waitFor('the hand-off exception', () => exceptionState(client, handoff).catch(() => undefined));
        await orderEvent({ type: 'order.cancelled', eventId: 'rec-2/cancelled', ...order, reason: 'recorded' }, windows);
        await client.workflow.getHandle(workflowId).result();
        return { workflowId };
      },
      'orderReconciliation-fulfilment-retried': async () => {
        const order = { orderId: 'rec-3', channel: 'shop' };
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/rec-3-stock', sku: 'T-1', location: 'WH1', quantity: 1 }));
        const windows = { ...orderWindowsOf(DEFAULT_CONFIG), fulfilmentWindow: 1 };
        const { workflowId } = await orderEvent({ type: 'order.placed', eventId: 'rec-3/placed', ...order, location: 'WH1', lines: [{ sku: 'T-1', quantity: 1 }] }, windows);
        await orderEvent({ type: 'order.paid', eventId: 'rec-3/paid', ...order }, windows);
        const handoff = workflowIds.exception('order_fulfilment', 'shop/rec-3/handoff');
        await waitFor('the hand-off exception', () => exceptionState(client, handoff).catch(() => undefined));
        await retryFulfilment(servicesFor(database, worker.taskQueue), 'rec-3', 'shop', { by: 'frank', reason: 'warehouse back up' });
        await waitFor('the retry to be recorded', async () => ((await database.sql`SELECT 1 FROM order_transitions t JOIN orders o ON o.id = t.order_pk WHERE o.order_id = 'rec-3' AND t.actor = 'frank'`).length > 0 ? true : undefined));
        await orderEvent({ type: 'fulfilment.accepted', eventId: 'rec-3/accepted', ...order }, windows);
        await orderEvent({ type: 'fulfilment.shipped', eventId: 'rec-3/shipped', ...order }, windows);
        await client.workflow.getHandle(workflowId).result();
        return { workflowId };
      },
      'orderReconciliation-answered-at-checkout-shipped': async () => {
        const order = { orderId: 'rec-4', channel: 'shop' };
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/rec-4-stock', sku: 'T-1', location: 'WH1', quantity: 3 }));
        // Two lines of one SKU: one reservation of their sum, taken over from the answer at checkout.
        const { workflowId } = await orderEvent({ type: 'order.placed', eventId: 'rec-4/placed', ...order, lines: [{ sku: 'T-1', quantity: 2 }, { sku: 'T-1', quantity: 1 }] });
        await orderState(workflowId, 'reserved');
        await orderEvent({ type: 'order.paid', eventId: 'rec-4/paid', ...order });
        await orderEvent({ type: 'fulfilment.shipped', eventId: 'rec-4/shipped', ...order });
        await client.workflow.getHandle(workflowId).result();
        return { workflowId };
      },
      'orderReconciliation-answered-at-checkout-rejected': async () => {
        const order = { orderId: 'rec-5', channel: 'shop' };
        const { workflowId } = await orderEvent({ type: 'order.placed', eventId: 'rec-5/placed', ...order, location: 'WH1', lines: [{ sku: 'T-1', quantity: 1_000 }] });
        await client.workflow.getHandle(workflowId).result();
        return { workflowId };
      },
      'cartHold-extended-then-expired': async () => {
        const s = servicesFor(database, worker.taskQueue);
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/cart-1-stock', sku: 'T-1', location: 'WH1', quantity: 1 }));
        const { cart } = await holdCartLines(s, { cartId: 'rec-cart-1', channel: 'shop', location: 'WH1', lines: [{ sku: 'T-1', quantity: 1 }], ttl: 60 });
        await extendCartHold(s, 'rec-cart-1', 1);
        await client.workflow.getHandle(cart.workflowId).result();
        return { workflowId: cart.workflowId };
      },
      'cartHold-converted': async () => {
        const s = servicesFor(database, worker.taskQueue);
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/cart-2-stock', sku: 'T-1', location: 'WH1', quantity: 1 }));
        const { cart } = await holdCartLines(s, { cartId: 'rec-cart-2', channel: 'shop', location: 'WH1', lines: [{ sku: 'T-1', quantity: 1 }] });
        await orderEvent({ type: 'order.placed', eventId: 'rec-6/placed', orderId: 'rec-6', channel: 'shop', cartId: 'rec-cart-2', lines: [{ sku: 'T-1', quantity: 1 }] });
        await client.workflow.getHandle(cart.workflowId).result();
        return { workflowId: cart.workflowId };
      },
      'dailyReconciliation-snapshot-delta': async () => {
        await importSnapshot(database.db, { source: 'record', lines: [{ sku: 'T-1', location: 'WH1', onHand: 99 }] }, 'json');
        const handle = await startReconciliationNow(client, worker.taskQueue, new Date('2026-01-01T02:00:00Z'));
        await handle.result();
        return handle;
      },
      'dailyReconciliation-orphan-by-key': async () => {
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/orphan-stock', sku: 'T-1', location: 'WH1', quantity: 2 }));
        await applyStockOperation(
          database.db,
          StockOperation.parse({ kind: 'reserve', idempotencyKey: 'record/orphan/reserve/1', sku: 'T-1', location: 'WH1', quantity: 1, orderRef: 'order/shop/record-ghost' }),
        );
        const handle = await startReconciliationNow(client, worker.taskQueue, new Date('2026-01-02T02:00:00Z'));
        await handle.result();
        return handle;
      },
      'channelSync-outage-then-recovered': async () => {
        receiver.down = true;
        await registerChannel(
          database.db,
          ChannelRegistration.parse({
            id: 'rec-hook',
            kind: 'webhook',
            name: 'Recording hook',
            owner: 'frank',
            locations: ['WH1'],
            settings: { url: `${receiverUrl}/figures`, readUrl: `${receiverUrl}/read` },
            secretRef: 'env:STOCKFLOW_RECORD_HOOK_SECRET',
            staleAfter: 1,
            buffer: { share: 0.5 },
            skus: [{ sku: 'T-1', externalId: 'T-1' }],
          }),
        );
        const workflowId = await ensureChannelSync(client, worker.taskQueue, 'rec-hook');
        await waitFor('the staleness exception', async () => ((await database.sql`SELECT 1 FROM exceptions WHERE subject = 'channel:rec-hook/stale'`).length > 0 ? true : undefined));
        receiver.down = false;
        await waitFor('the recovery', async () => (receiver.latest.has('T-1') ? true : undefined));
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/channel-receive', sku: 'T-1', location: 'WH1', quantity: 10 }));
        const target = (await database.sql<{ a: number }[]>`SELECT sum(available)::int AS a FROM stock_balances`)[0].a;
        await waitFor('the new figure', async () => (receiver.latest.get('T-1')?.available === Math.floor(target / 2) ? true : undefined));
        await client.workflow.getHandle(workflowId).terminate('recorded');
        return { workflowId };
      },
      'channelDrift-delta': async () => {
        receiver.shownOverride.set('T-1', 1234);
        const workflowId = 'record/channel-drift';
        await client.workflow.execute('channelDrift', { taskQueue: worker.taskQueue, workflowId });
        return { workflowId };
      },
      'reservationSweep-released': async () => {
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'reserve', idempotencyKey: 'record/stale', sku: 'T-1', location: 'WH1', quantity: 1, ttlSeconds: 1 }));
        await waitFor('the reservation to expire', async () => ((await database.sql`SELECT expires_at < now() AS passed FROM reservations WHERE idempotency_key = 'record/stale'`)[0].passed ? true : undefined));
        const handle = await client.workflow.start('reservationSweep', { taskQueue: worker.taskQueue, workflowId: 'record/reservation-sweep' });
        await handle.result();
        return handle;
      },
      'catalogueImport-applied-in-chunks': async () => {
        const body = JSON.stringify({
          importId: 'record-import',
          locations: [{ code: 'IMP', name: 'Imported store', kind: 'store', channels: ['shop'] }],
          items: [{ handle: 'rec-item', name: 'Recorded item', variants: [{ sku: 'RI-1', price: 3 }, { sku: 'RI-2', price: 4 }] }],
          balances: [{ sku: 'RI-1', location: 'IMP', onHand: 5 }, { sku: 'RI-2', location: 'IMP', onHand: 6 }],
        });
        const submitted = await submitImport(servicesFor(database, worker.taskQueue, { importChunkSize: 2 }), { format: 'stockflow', contentType: 'json', body, skipInvalid: false, currency: 'EUR' });
        await client.workflow.getHandle(submitted.workflowId).result();
        return submitted;
      },
      'catalogueImport-refused': async () => {
        const body = 'record,sku,location,on_hand\nbalance,NOPE,WH1,1\n';
        const submitted = await submitImport(servicesFor(database, worker.taskQueue), { format: 'stockflow', contentType: 'csv', body, importId: 'record-refused', skipInvalid: false, currency: 'EUR' });
        await client.workflow.getHandle(submitted.workflowId).result();
        return submitted;
      },
      'kpiAlertCheck-raised': async () => {
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/alert-in', sku: 'FT-9', location: 'WH1', quantity: 10 }));
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'cycle_count', idempotencyKey: 'record/alert-count', sku: 'FT-9', location: 'WH1', counted: 5 }));
        const handle = await client.workflow.start('kpiAlertCheck', { taskQueue: worker.taskQueue, workflowId: 'record/kpi-alerts' });
        await handle.result();
        return handle;
      },
      'replenishment-raised': async () => {
        await savePolicies(database.db, { by: 'record', policies: [{ kind: 'static', sku: 'T-1', location: 'WH1', supplierId: 'rec', reorderPoint: 100, orderQuantity: 10 }] });
        const handle = await client.workflow.start('replenishment', { taskQueue: worker.taskQueue, workflowId: 'record/replenishment' });
        await handle.result();
        return handle;
      },
      'purchaseOrder-late-then-received': async () => {
        const s = servicesFor(database, worker.taskQueue, { purchasing: { graceSeconds: 1, overReceiptTolerance: 0.1 } });
        const { order } = await placePurchaseOrder(s, { by: 'alice', poNumber: 'PO-record-late', supplierId: 'rec', lines: [{ sku: 'T-1', location: 'WH1', quantity: 4 }] });
        const handle = client.workflow.getHandle(workflowIds.purchaseOrder(order.poNumber));
        await waitFor('the order to be late', async () => ((await handle.query(purchaseOrderStateQuery).catch(() => undefined))?.late ? true : undefined));
        await receivePurchaseOrder(s, order.poNumber, { receiptId: 'record-receipt', lines: [{ sku: 'T-1', quantity: 4 }] }, 'alice');
        await handle.result();
        return handle;
      },
      'abcClassification-classified': async () => {
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/abc-in', sku: 'FT-8', location: 'WH1', quantity: 10 }));
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'issue', idempotencyKey: 'record/abc-out', sku: 'FT-8', location: 'WH1', quantity: 4 }));
        const handle = await client.workflow.start('abcClassification', { taskQueue: worker.taskQueue, workflowId: 'record/abc-classification' });
        await handle.result();
        return handle;
      },
      'countPlanning-raised': async () => {
        await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'record/count-in', sku: 'FT-7', location: 'WH1', quantity: 3 }));
        const handle = await client.workflow.start('countPlanning', { taskQueue: worker.taskQueue, workflowId: 'record/count-planning', args: [{ day: '2026-12-02' }] });
        await handle.result();
        return handle;
      },
      'ownerDigest-sent': async () => {
        const handle = await client.workflow.start('ownerDigest', { taskQueue: worker.taskQueue, workflowId: 'record/owner-digest' });
        await handle.result();
        return handle;
      },
    };
    // Named scenarios only, when given: recorded histories of earlier code are what prove running workflows still replay.
    const wanted = process.argv.slice(2);
    const unknown = wanted.filter((name) => !(name in scenarios));
    if (unknown.length > 0) throw new Error(`no scenario ${unknown.join(', ')}; scenarios: ${Object.keys(scenarios).join(', ')}`);
    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const [name, run] of Object.entries(scenarios).filter(([name]) => wanted.length === 0 || wanted.includes(name))) {
      const { workflowId } = await run();
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      // The workflow id is kept: child ids and idempotency keys are derived from it on replay.
      writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), `{"workflowId": ${JSON.stringify(workflowId)}, "history": ${historyToJSON(history)}}\n`);
      console.log(`recorded ${name}`);
    }
  } finally {
    await receiver.stop();
    await worker.stop();
    await database.close();
    await stopInfra();
  }
}

record().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
