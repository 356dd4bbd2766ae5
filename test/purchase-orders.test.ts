import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { signatureProblem, signedHeaders } from '../api/auth';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { purchaseOrderNumbers, workflowIds } from '../domain/keys';
import { waitFor } from '../runtime/wait';
import { decideException } from '../services/exceptions';
import { purchaseOrderStateQuery } from '../workflows/purchase-order-messages';
import { serveOnLoopback } from './contract/loopback';
import { createTestDatabase, defaultApiSettings, infra, principalWithToken, stockflowCli, startTestWorker, type RunningWorker } from './harness';

const DAY = 86_400_000;
const HOOK_SECRET = 'purchase-order-hook-secret';
const WAREHOUSE_SECRET = 'purchase-order-warehouse-secret';

describe('purchase orders: from an approved suggestion or placed directly, through incoming to receipts', () => {
  // Workflow ids are business keys and the suites share one Temporal namespace: this run's suppliers are its own.
  const run = randomUUID().slice(0, 8);
  const acme = `acme-${run}`;
  const bolt = `bolt-${run}`;
  const hook = `hook-${run}`;
  const slow = `slow-${run}`;
  const duo = `duo-${run}`;
  const unsigned = `unsigned-${run}`;
  let database: Database;
  let app: FastifyInstance;
  let worker: RunningWorker;
  let operator: { authorization: string };
  let buyer: { authorization: string };
  let clerk: { authorization: string };
  let suggested: string;
  const direct = `PO-${run}-direct`;

  const hookCalls: { problem?: string; body: { poNumber: string; lines: { sku: string; quantity: number }[] }; answered: number }[] = [];

  async function ok(method: 'PUT' | 'GET' | 'POST', url: string, headers: { authorization: string }, payload?: object, status = 200) {
    const res = await app.inject({ method, url, headers, payload });
    assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
    return res.json();
  }

  async function balance(sku: string) {
    const [row] = await database.sql<{ onHand: number; incoming: number }[]>`
      SELECT b.on_hand AS "onHand", b.incoming FROM stock_balances b JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id
      WHERE v.sku = ${sku} AND l.code = 'WH1'`;
    return row ? { ...row } : { onHand: 0, incoming: 0 };
  }

  const incomingReaches = (sku: string, incoming: number) =>
    waitFor(`incoming of ${sku} to be ${incoming}`, async () => ((await balance(sku)).incoming === incoming ? true : undefined));

  let stopHook: () => Promise<void>;

  /** The `stockflow` command, as the buyer, against this suite's API. */
  function stockflow(...args: string[]) {
    return stockflowCli(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, buyer, ...args);
  }

  before(async () => {
    database = await createTestDatabase();
    worker = await startTestWorker(database, 'purchase-orders', { sourceSecrets: { [`supplier:${hook}`]: HOOK_SECRET } });
    // The supplier's end: refuses a bad signature (401), fails the first good request (500), takes the next.
    const hookServer = await serveOnLoopback((req, raw) => {
      const problem = signatureProblem(HOOK_SECRET, req.headers, raw);
      const answered = problem ? 401 : hookCalls.some((c) => c.answered === 500) ? 204 : 500;
      hookCalls.push({ problem, body: JSON.parse(raw), answered });
      return { status: answered };
    });
    stopHook = hookServer.stop;
    await replaceOwnership(database.db, {
      owners: [
        { id: 'bea', name: 'Bea', contact: 'bea@example.com', roles: ['purchasing'] },
        { id: 'olga', name: 'Olga', contact: 'olga@example.com', roles: ['operations'] },
      ],
      rules: [
        { owner: 'olga', backup: 'olga', escalation: 'olga', ackSla: '1h', resolutionSla: '1d' },
        { match: { exceptionType: 'purchase_suggestion' }, owner: 'bea', backup: 'olga', escalation: 'olga', ackSla: '4h', resolutionSla: '1d' },
        { match: { exceptionType: 'purchase_order_late' }, owner: 'bea', backup: 'olga', escalation: 'olga', ackSla: '4h', resolutionSla: '2d' },
      ],
    });
    await addToCatalogue(database.db, {
      locations: [{ code: 'WH1', name: 'Warehouse' }, { code: 'DS', name: 'Suppliers' }],
      items: [{ name: 'Item', skus: ['P1', 'P2', 'P3', 'H1', 'L1', 'D1'] }],
    });
    // The late check waits seconds, not days: the grace is the API's configuration.
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: 'po-token', sourceSecrets: { warehouse: WAREHOUSE_SECRET }, purchasing: { graceSeconds: 2, overReceiptTolerance: 0.1 } });
    operator = await principalWithToken(database, 'ops', 'operator');
    buyer = await principalWithToken(database, 'bea', 'approver');
    clerk = await principalWithToken(database, 'clerk', 'operator');
    await app.listen({ host: '127.0.0.1', port: 0 });
    await ok('PUT', `/v1/suppliers/${acme}`, operator, { name: 'Acme', location: 'DS', leadTimeDays: 10, currency: 'EUR' });
    await ok('PUT', `/v1/suppliers/${bolt}`, operator, { name: 'Bolt', location: 'DS', leadTimeDays: 5, currency: 'EUR' });
    await ok('PUT', `/v1/suppliers/${hook}`, operator, { name: 'Hooked', location: 'DS', leadTimeDays: 3, orderWebhookUrl: `${hookServer.url}/orders` });
    await ok('PUT', `/v1/suppliers/${slow}`, operator, { name: 'Slow', location: 'DS', leadTimeDays: 0 });
    await ok('PUT', `/v1/suppliers/${duo}`, operator, { name: 'Duo', location: 'DS', leadTimeDays: 7 });
    await ok('PUT', `/v1/suppliers/${unsigned}`, operator, { name: 'No secret', location: 'DS', orderWebhookUrl: `${hookServer.url}/orders` });
    await ok('PUT', `/v1/suppliers/${acme}/variants`, operator, { entries: [{ sku: 'P1', cost: 2 }, { sku: 'P2', cost: 1 }] });
    await ok('PUT', '/v1/reorder-policies', operator, {
      policies: [
        { kind: 'static', sku: 'P1', location: 'WH1', supplierId: acme, reorderPoint: 10, orderQuantity: 20 },
        { kind: 'static', sku: 'P2', location: 'WH1', supplierId: acme, reorderPoint: 5, orderQuantity: 8 },
        { kind: 'static', sku: 'P3', location: 'WH1', supplierId: bolt, reorderPoint: 5, orderQuantity: 6 },
        { kind: 'static', sku: 'D1', location: 'WH1', supplierId: duo, reorderPoint: 1, orderQuantity: 3 },
      ],
    });
  });

  after(async () => {
    // Orders still open keep their workflows waiting; end them so no run outlives this suite's worker.
    const open = database ? await database.sql<{ po: string }[]>`SELECT po_number AS po FROM purchase_orders WHERE status = 'open'` : [];
    for (const { po } of open) await infra().client.workflow.getHandle(workflowIds.purchaseOrder(po)).terminate('test suite ended').catch(() => undefined);
    await stopHook?.();
    await app?.close();
    await worker?.stop();
    await database?.close();
  });

  it('turns an approved suggestion into a purchase order in the same transaction, raises incoming, and answers a retried approval with the same order', async () => {
    const done = await infra().client.workflow.execute('replenishment', { taskQueue: worker.taskQueue, workflowId: `replenishment-po-test-${run}` });
    const today = new Date().toISOString().slice(0, 10);
    suggested = purchaseOrderNumbers.fromSuggestion(done.runKey, acme);
    assert.equal(suggested, `PO-replenishment-${today}-${acme}`);
    const suggestions = await ok('GET', '/v1/purchase-suggestions?status=open', operator);
    const ofAcme = suggestions.find((s: { supplierId: string }) => s.supplierId === acme);
    await waitFor('the suggestion to be held', async () => ((await database.sql`SELECT 1 FROM exceptions WHERE type = 'purchase_suggestion' AND supplier_id = ${acme}`).length > 0 ? true : undefined));

    const approved = await ok('POST', `/v1/purchase-suggestions/${ofAcme.id}/approve`, buyer, { quantities: [{ lineNo: 2, quantity: 12 }] });
    assert.equal(approved.status, 'approved');
    assert.equal(approved.purchaseOrder, suggested);
    await incomingReaches('P1', 20);
    await incomingReaches('P2', 12);

    const order = await ok('GET', `/v1/purchase-orders/${suggested}`, operator);
    assert.deepEqual(
      { supplierId: order.supplierId, status: order.status, currency: order.currency, value: order.value, suggestionId: order.suggestionId, createdBy: order.createdBy, lines: order.lines },
      {
        supplierId: acme,
        status: 'open',
        currency: 'EUR',
        value: 20 * 2 + 12 * 1,
        suggestionId: ofAcme.id,
        createdBy: 'bea',
        lines: [
          { lineNo: 1, sku: 'P1', location: 'WH1', ordered: 20, received: 0, remaining: 20, unitCost: 2 },
          { lineNo: 2, sku: 'P2', location: 'WH1', ordered: 12, received: 0, remaining: 12, unitCost: 1 },
        ],
      },
    );
    assert.equal(Math.round((Date.parse(order.expectedAt) - Date.parse(order.createdAt)) / DAY), 10, 'due after the supplier lead time');

    const again = await ok('POST', `/v1/purchase-suggestions/${ofAcme.id}/approve`, buyer, {});
    assert.deepEqual(again, approved, 'a retried approval answers with the same decision and order');
    const [{ orders }] = await database.sql`SELECT count(*)::int AS orders FROM purchase_orders WHERE suggestion_id = ${ofAcme.id}`;
    assert.equal(orders, 1);
    assert.deepEqual(await balance('P1'), { onHand: 0, incoming: 20 }, 'incoming raised once');
  });

  it('completes an approval whose exception was decided but whose suggestion was not (the answer was lost)', async () => {
    const [ofBolt] = (await ok('GET', '/v1/purchase-suggestions?status=open', operator)).filter((s: { supplierId: string }) => s.supplierId === bolt);
    const exception = workflowIds.exception('purchase_suggestion', `${ofBolt.runKey}/${bolt}`);
    const decided = await decideException({ db: database.db, client: infra().client }, exception, { action: 'approve', by: 'bea', reason: 'approved, then the API went away' });
    assert.equal(decided.accepted, true);
    await waitFor('the exception to be recorded approved', async () => ((await database.sql`SELECT 1 FROM exceptions WHERE workflow_id = ${exception} AND status = 'approved'`).length > 0 ? true : undefined));

    const approved = await ok('POST', `/v1/purchase-suggestions/${ofBolt.id}/approve`, buyer, {});
    assert.equal(approved.status, 'approved');
    assert.equal(approved.purchaseOrder, purchaseOrderNumbers.fromSuggestion(ofBolt.runKey, bolt));
    await incomingReaches('P3', 6);
  });

  it('answers two approvals sent at once by the same buyer (a double click) with the same single order', async () => {
    const [ofDuo] = (await ok('GET', '/v1/purchase-suggestions?status=open', operator)).filter((s: { supplierId: string }) => s.supplierId === duo);
    const both = await Promise.all([1, 2].map(() => app.inject({ method: 'POST', url: `/v1/purchase-suggestions/${ofDuo.id}/approve`, headers: buyer, payload: {} })));
    assert.deepEqual(both.map((r) => r.statusCode), [200, 200], both.map((r) => r.body).join('\n'));
    assert.deepEqual(both[0].json(), both[1].json());
    const [{ orders }] = await database.sql`SELECT count(*)::int AS orders FROM purchase_orders WHERE supplier_id = ${duo}`;
    assert.equal(orders, 1);
    await incomingReaches('D1', 3);
  });

  it('adds the incoming of two open orders for the same SKU, and takes a direct order again by its number', async () => {
    const request = { poNumber: direct, supplierId: acme, lines: [{ sku: 'P1', location: 'WH1', quantity: 5 }] };
    const placed = await ok('POST', '/v1/purchase-orders', buyer, request, 201);
    assert.equal(placed.lines[0].unitCost, 2, "the supplier's cost when the line names none");
    await incomingReaches('P1', 25);
    const resent = await ok('POST', '/v1/purchase-orders', buyer, request, 200);
    assert.equal(resent.poNumber, direct);
    const conflict = await app.inject({ method: 'POST', url: '/v1/purchase-orders', headers: buyer, payload: { ...request, lines: [{ sku: 'P1', location: 'WH1', quantity: 6 }] } });
    assert.equal(conflict.statusCode, 409, conflict.body);
    assert.equal(conflict.json().error, 'purchase_order_conflict');
    const unknown = await app.inject({ method: 'POST', url: '/v1/purchase-orders', headers: buyer, payload: { ...request, poNumber: `${direct}-x`, lines: [{ sku: 'P1', location: 'WH1', quantity: 1 }, { sku: 'NOPE', location: 'WH1', quantity: 1 }] } });
    assert.equal(unknown.statusCode, 400, unknown.body);
    assert.match(unknown.json().message, /lines\.1\.sku: unknown SKU "NOPE"/);
    assert.deepEqual(await balance('P1'), { onHand: 0, incoming: 25 });
  });

  it('receives partially: units move from incoming to on hand in one movement, by the authenticated clerk', async () => {
    const received = await ok('POST', `/v1/purchase-orders/${suggested}/receipts`, clerk, { receiptId: 'r1', lines: [{ sku: 'P1', quantity: 8 }] });
    assert.equal(received.replayed, false);
    assert.equal(received.receipt.receivedBy, 'clerk');
    assert.deepEqual(received.order.lines[0], { lineNo: 1, sku: 'P1', location: 'WH1', ordered: 20, received: 8, remaining: 12, unitCost: 2 });
    assert.deepEqual(await balance('P1'), { onHand: 8, incoming: 17 });
    const movements = await database.sql`SELECT kind, actor, source_ref, delta_on_hand, delta_incoming FROM stock_movements WHERE idempotency_key LIKE ${`po/${suggested}/receipt/r1/%`}`;
    assert.deepEqual(movements.map((m) => ({ ...m })), [{ kind: 'receive_incoming', actor: 'clerk', source_ref: suggested, delta_on_hand: 8, delta_incoming: -8 }]);
  });

  it('applies nothing twice when a receipt id is resent', async () => {
    const resent = await ok('POST', `/v1/purchase-orders/${suggested}/receipts`, clerk, { receiptId: 'r1', lines: [{ sku: 'P1', quantity: 8 }] });
    assert.equal(resent.replayed, true);
    assert.deepEqual(await balance('P1'), { onHand: 8, incoming: 17 });
    assert.equal(resent.order.lines[0].received, 8);
    const reused = await app.inject({ method: 'POST', url: `/v1/purchase-orders/${suggested}/receipts`, headers: clerk, payload: { receiptId: 'r1', lines: [{ sku: 'P1', quantity: 9 }] } });
    assert.equal(reused.statusCode, 409, reused.body);
    assert.equal(reused.json().error, 'idempotency_conflict');
  });

  it('refuses a receipt beyond the over-receipt tolerance, naming the line and changing nothing; accepts one within it', async () => {
    const before = { p1: await balance('P1'), p2: await balance('P2'), order: await ok('GET', `/v1/purchase-orders/${suggested}`, operator) };
    const over = await app.inject({ method: 'POST', url: `/v1/purchase-orders/${suggested}/receipts`, headers: clerk, payload: { receiptId: 'r2', lines: [{ sku: 'P1', quantity: 14 }, { sku: 'P2', quantity: 14 }] } });
    assert.equal(over.statusCode, 409, over.body);
    assert.equal(over.json().error, 'over_receipt');
    assert.match(over.json().message, /^lines\.1\.quantity: receiving 14 of P2@WH1 would make 14 received of 12 ordered, more than the over-receipt tolerance allows \(at most 13\)$/);
    assert.deepEqual({ p1: await balance('P1'), p2: await balance('P2'), order: await ok('GET', `/v1/purchase-orders/${suggested}`, operator) }, before, 'nothing changed, not even the line within the tolerance');
    const stray = await app.inject({ method: 'POST', url: `/v1/purchase-orders/${suggested}/receipts`, headers: clerk, payload: { receiptId: 'r2', lines: [{ sku: 'P3', quantity: 1 }] } });
    assert.equal(stray.statusCode, 400, stray.body);
    assert.match(stray.json().message, new RegExp(`lines\\.0\\.sku: purchase order ${suggested} has no line for P3`));

    // 8 + 14 = 22 of 20 ordered is the 10 % allowed; only the 12 still expected leave incoming.
    await ok('POST', `/v1/purchase-orders/${suggested}/receipts`, clerk, { receiptId: 'r2', lines: [{ sku: 'P1', quantity: 14 }] });
    assert.deepEqual(await balance('P1'), { onHand: 22, incoming: 5 }, "the direct order's 5 stay incoming");
  });

  it('closes short: the unreceived remainder leaves incoming and the workflow ends', async () => {
    const closed = await ok('POST', `/v1/purchase-orders/${suggested}/close`, buyer, { reason: 'P2 discontinued by the supplier' });
    assert.deepEqual([closed.status, closed.closedBy, closed.closeReason], ['closed', 'bea', 'P2 discontinued by the supplier']);
    assert.deepEqual(await balance('P2'), { onHand: 0, incoming: 0 });
    assert.deepEqual(await balance('P1'), { onHand: 22, incoming: 5 });
    const ended = await infra().client.workflow.getHandle(workflowIds.purchaseOrder(suggested)).result();
    assert.equal(ended.status, 'closed');
    const late = await app.inject({ method: 'POST', url: `/v1/purchase-orders/${suggested}/receipts`, headers: clerk, payload: { receiptId: 'r3', lines: [{ sku: 'P2', quantity: 1 }] } });
    assert.equal(late.statusCode, 409);
    assert.equal(late.json().error, 'purchase_order_not_open');

    const listed = await ok('GET', `/v1/purchase-orders?supplierId=${acme}&limit=1`, operator);
    assert.deepEqual(listed.items.map((o: { poNumber: string }) => o.poNumber), [direct]);
    assert.equal(listed.nextCursor, direct);
    const next = await ok('GET', `/v1/purchase-orders?supplierId=${acme}&limit=1&cursor=${listed.nextCursor}`, operator);
    assert.deepEqual([next.items.map((o: { poNumber: string }) => o.poNumber), next.nextCursor], [[suggested], null]);
    const closedOnly = await ok('GET', '/v1/purchase-orders?status=closed', operator);
    assert.deepEqual(closedOnly.items.map((o: { poNumber: string }) => o.poNumber), [suggested]);
  });

  it('ends the workflow when an order is received in full, here by a receipt the warehouse signed', async () => {
    const payload = JSON.stringify({ receiptId: 'd1', lines: [{ sku: 'P1', location: 'WH1', quantity: 5 }] });
    const signed = await app.inject({ method: 'POST', url: `/v1/purchase-orders/${direct}/receipts`, headers: { 'content-type': 'application/json', ...signedHeaders(WAREHOUSE_SECRET, payload) }, payload });
    assert.equal(signed.statusCode, 200, signed.body);
    assert.equal(signed.json().receipt.receivedBy, 'source:warehouse');
    const ended = await infra().client.workflow.getHandle(workflowIds.purchaseOrder(direct)).result();
    assert.equal(ended.status, 'received');
    assert.deepEqual(await balance('P1'), { onHand: 27, incoming: 0 });
  });

  it('opens one purchase_order_late exception for the buyer when an order is not in by its expected date plus the grace', async () => {
    const po = `PO-${run}-late`;
    await ok('POST', '/v1/purchase-orders', buyer, { poNumber: po, supplierId: slow, lines: [{ sku: 'L1', location: 'WH1', quantity: 4 }] }, 201);
    const handle = infra().client.workflow.getHandle(workflowIds.purchaseOrder(po));
    await waitFor('the order to be late', async () => ((await handle.query(purchaseOrderStateQuery).catch(() => undefined))?.late ? true : undefined));
    const exceptions = await waitFor('the exception to open', async () => {
      const rows = await database.sql`SELECT owner_id, status, summary FROM exceptions WHERE type = 'purchase_order_late' AND subject = ${`po:${po}/late`}`;
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(exceptions.length, 1);
    assert.equal(exceptions[0].owner_id, 'bea');
    assert.match(exceptions[0].summary, new RegExp(`^Purchase order ${po} from ${slow} is late: 4 unit\\(s\\) on 1 line\\(s\\) not received`));
    await ok('POST', `/v1/purchase-orders/${po}/receipts`, clerk, { receiptId: 'l1', lines: [{ sku: 'L1', quantity: 4 }] });
    assert.equal((await handle.result()).late, true);
    const [{ n }] = await database.sql`SELECT count(*)::int AS n FROM exceptions WHERE type = 'purchase_order_late'`;
    assert.equal(n, 1, 'one exception, however long it stayed late');
  });

  it("sends the order to the supplier's webhook, signed with the supplier's secret, retrying after a 500", async () => {
    const po = `PO-${run}-hook`;
    await ok('POST', '/v1/purchase-orders', buyer, { poNumber: po, supplierId: hook, lines: [{ sku: 'H1', location: 'WH1', quantity: 3 }] }, 201);
    const order = await waitFor('the order to be sent', async () => {
      const current = await ok('GET', `/v1/purchase-orders/${po}`, operator);
      return current.sentAt ? current : undefined;
    });
    assert.deepEqual(hookCalls.map((c) => [c.answered, c.problem ?? 'signed']), [[500, 'signed'], [204, 'signed']]);
    assert.deepEqual(hookCalls[1].body, { poNumber: po, supplierId: hook, currency: null, expectedAt: order.expectedAt, lines: [{ lineNo: 1, sku: 'H1', supplierSku: null, location: 'WH1', quantity: 3, unitCost: null }] });
    const state = await infra().client.workflow.getHandle(workflowIds.purchaseOrder(po)).query(purchaseOrderStateQuery);
    assert.equal(state.sent, true);
  });

  it('sends nothing unsigned: a supplier with a webhook but no secret gets no request, and the workflow says why', async () => {
    const po = `PO-${run}-unsigned`;
    const calls = hookCalls.length;
    await ok('POST', '/v1/purchase-orders', buyer, { poNumber: po, supplierId: unsigned, lines: [{ sku: 'H1', location: 'WH1', quantity: 1 }] }, 201);
    const handle = infra().client.workflow.getHandle(workflowIds.purchaseOrder(po));
    const state = await waitFor('the send to give up', async () => (await handle.query(purchaseOrderStateQuery).catch(() => undefined))?.sendProblem ? handle.query(purchaseOrderStateQuery) : undefined);
    assert.match(state.sendProblem ?? '', new RegExp(`no signing secret for supplier:${unsigned}`));
    assert.equal(state.sent, false);
    assert.equal(hookCalls.length, calls);
  });

  it('takes reorder policies as CSV, refusing a file with a bad row by row and column and saving none of it', async () => {
    const header = 'kind,sku,location,supplier_id,reorder_point,order_quantity,safety_days,target_days,window_days';
    const bad = [header, `static,H1,WH1,${hook},4,10,,,`, `static,L1,WH1,${slow},-1,10,,,`, `dynamic,L1,WH1,${slow},,,3,,`].join('\n');
    const refused = await app.inject({ method: 'PUT', url: '/v1/reorder-policies', headers: { ...operator, 'content-type': 'text/csv' }, payload: bad });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json().error, 'invalid_lines');
    assert.match(refused.json().message, /row 2 \(line 3\), column reorder_point: must not be negative/);
    assert.match(refused.json().message, /row 3 \(line 4\), column target_days: must be a number of days/);
    const [{ n }] = await database.sql`SELECT count(*)::int AS n FROM reorder_policies v JOIN variants x ON x.id = v.variant_id WHERE x.sku IN ('H1', 'L1')`;
    assert.equal(n, 0, 'nothing saved, not even the good row');

    const dir = mkdtempSync(path.join(os.tmpdir(), 'policies-'));
    const file = path.join(dir, 'policies.csv');
    writeFileSync(file, [header, `static,H1,WH1,${hook},4,10,,,`, `dynamic,L1,WH1,${slow},,,3,21,14`].join('\r\n'));
    const imported = await stockflow('policies', 'import', file);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.stdout, 'saved 2 policies\n');
    const listed = await stockflow('policies', 'list', '--location', 'WH1', '--supplier', slow);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^sku +location +supplier +kind +policy\nL1 +WH1 +${slow} +dynamic +safety 3d, target 21d, window 14d\n$`));
    const [policy] = await database.sql`SELECT updated_by FROM reorder_policies p JOIN variants v ON v.id = p.variant_id WHERE v.sku = 'H1'`;
    assert.equal(policy.updated_by, 'bea', 'saved as the authenticated person');
  });

  it('lists, shows, receives against and closes orders from the command line', async () => {
    const po = `PO-${run}-cli`;
    await ok('POST', '/v1/purchase-orders', buyer, { poNumber: po, supplierId: slow, expectedAt: new Date(Date.now() + 30 * DAY).toISOString(), lines: [{ sku: 'L1', location: 'WH1', quantity: 10 }] }, 201);
    await incomingReaches('L1', 10);
    const received = await stockflow('purchase-orders', 'receive', po, '--receipt', 'c1', '--line', 'L1=4');
    assert.equal(received.code, 0, received.stderr);
    assert.match(received.stdout, new RegExp(`^${po} ${slow} open 0\\.00, expected .*\n  1\\. L1@WH1 ordered 10, received 4, remaining 6\n  receipt c1 by bea at .*: L1@WH1 × 4\n$`));
    const again = await stockflow('purchase-orders', 'receive', po, '--receipt', 'c1', '--line', 'L1=4');
    assert.match(again.stdout, /^already recorded, nothing applied again\n/);
    const over = await stockflow('purchase-orders', 'receive', po, '--receipt', 'c2', '--line', 'L1=8');
    assert.equal(over.code, 1);
    assert.match(over.stderr, /error 409: lines\.0\.quantity: receiving 8 of L1@WH1 would make 12 received of 10 ordered/);
    const listed = await stockflow('purchase-orders', 'list', '--supplier', slow, '--status', 'open');
    assert.match(listed.stdout, new RegExp(`^po +supplier +status +value +expected +sent\n${po} +${slow} +open +0\\.00 `));
    const closed = await stockflow('purchase-orders', 'close', po, '--reason', 'rest cancelled');
    assert.equal(closed.code, 0, closed.stderr);
    assert.match(closed.stdout, /closed .*, closed by bea: rest cancelled\n/);
    const shown = await stockflow('purchase-orders', 'show', po);
    assert.match(shown.stdout, /ordered 10, received 4, remaining 6/);
    assert.deepEqual(await balance('L1'), { onHand: 8, incoming: 0 }, '4 from the late order and 4 from this one on hand; the remainder out of incoming');
  });
});
