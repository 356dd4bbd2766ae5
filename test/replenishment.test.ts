import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { waitFor } from '../runtime/wait';
import { StockOperation } from '../schemas/stock';
import { replenish } from '../services/replenishment';
import { createTestDatabase, defaultApiSettings, infra, principalWithToken, stockflowCli, servicesFor, startTestWorker, type RunningWorker } from './harness';

const DAY = 86_400_000;
const WINDOW = 28;

describe('replenishment: policies, one run a day, one suggestion per supplier, the buyer decides', () => {
  let database: Database;
  let app: FastifyInstance;
  let operator: { authorization: string };
  let buyer: { authorization: string };
  let stranger: { authorization: string };
  let worker: RunningWorker;

  const move = (kind: 'receive' | 'issue' | 'set_incoming', sku: string, quantity: number) =>
    applyStockOperation(database.db, StockOperation.parse({ kind, idempotencyKey: `seed/${kind}/${sku}/${quantity}`, sku, location: 'WH1', quantity }));

  async function ok(method: 'PUT' | 'GET' | 'POST', url: string, headers: { authorization: string }, payload?: object) {
    const res = await app.inject({ method, url, headers, payload });
    assert.equal(res.statusCode, 200, `${method} ${url}: ${res.body}`);
    return res.json();
  }

  before(async () => {
    database = await createTestDatabase();
    worker = await startTestWorker(database, 'replenishment');
    await replaceOwnership(database.db, {
      owners: [
        { id: 'bea', name: 'Bea', contact: 'bea@example.com', roles: ['purchasing'] },
        { id: 'olga', name: 'Olga', contact: 'olga@example.com', roles: ['operations'] },
      ],
      rules: [
        { owner: 'olga', backup: 'olga', escalation: 'olga', ackSla: '1h', resolutionSla: '1d' },
        { match: { exceptionType: 'purchase_suggestion' }, owner: 'bea', backup: 'olga', escalation: 'olga', ackSla: '4h', resolutionSla: '1d' },
      ],
    });
    await addToCatalogue(database.db, {
      locations: [{ code: 'WH1', name: 'Warehouse' }, { code: 'DS', name: 'Suppliers' }],
      items: [{ name: 'Item', skus: ['A1', 'A2', 'B1', 'C1'] }],
    });
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: 'replenishment-token' });
    operator = await principalWithToken(database, 'ops', 'operator');
    buyer = await principalWithToken(database, 'bea', 'approver');
    await app.listen({ host: '127.0.0.1', port: 0 });
    stranger = await principalWithToken(database, 'frank', 'approver');
    await ok('PUT', '/v1/suppliers/acme', operator, { name: 'Acme', location: 'DS', leadTimeDays: 10, moq: 24, packSize: 12, currency: 'EUR' });
    await ok('PUT', '/v1/suppliers/bolt', operator, { name: 'Bolt', location: 'DS', leadTimeDays: 5, currency: 'EUR' });
    await ok('PUT', '/v1/suppliers/acme/variants', operator, { entries: [{ sku: 'A1', cost: 2.5 }, { sku: 'A2', cost: 0.5 }, { sku: 'C1', cost: 1 }] });
    await ok('PUT', '/v1/suppliers/bolt/variants', operator, { entries: [{ sku: 'B1', cost: 1.5 }] });

    // A1: 42 shipped out in the window (1.5/day), 16 available + 5 incoming = the reorder point 21.
    await move('receive', 'A1', 58);
    await move('issue', 'A1', 42);
    await move('set_incoming', 'A1', 5);
    // A2: a static policy, 8 on hand at its point of 10.
    await move('receive', 'A2', 8);
    // B1: 28 out in 28 days (1/day), lead 5 + safety 2 → point 7, 2 available.
    await move('receive', 'B1', 30);
    await move('issue', 'B1', 28);
    // C1: 1/day too, but 72 available is far above its point of 14.
    await move('receive', 'C1', 100);
    await move('issue', 'C1', 28);
  });

  /** The `stockflow` command the buyer runs, against this suite's API. */
  function stockflow(...args: string[]) {
    return stockflowCli(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, buyer, ...args);
  }

  after(async () => {
    await app?.close();
    await worker?.stop();
    await database?.close();
  });

  it('saves reorder policies in bulk as the authenticated person, refusing an unknown SKU with the entry named', async () => {
    const refused = await app.inject({
      method: 'PUT',
      url: '/v1/reorder-policies',
      headers: operator,
      payload: { policies: [{ kind: 'static', sku: 'A2', location: 'WH1', supplierId: 'acme', reorderPoint: 10, orderQuantity: 50 }, { kind: 'static', sku: 'NOPE', location: 'WH1', supplierId: 'acme', reorderPoint: 1, orderQuantity: 1 }] },
    });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json().error, 'unknown_sku');
    assert.match(refused.json().message, /policies\.1\.sku: unknown SKU "NOPE"/);
    assert.deepEqual(await ok('GET', '/v1/reorder-policies', operator), [], 'a refused batch saves nothing');

    const saved = await ok('PUT', '/v1/reorder-policies', operator, {
      policies: [
        { kind: 'dynamic', sku: 'A1', location: 'WH1', supplierId: 'acme', safetyDays: 4, targetDays: 30 },
        { kind: 'static', sku: 'A2', location: 'WH1', supplierId: 'acme', reorderPoint: 10, orderQuantity: 50 },
        { kind: 'dynamic', sku: 'B1', location: 'WH1', supplierId: 'bolt', safetyDays: 2, targetDays: 14, windowDays: WINDOW },
        { kind: 'dynamic', sku: 'C1', location: 'WH1', supplierId: 'acme', safetyDays: 4, targetDays: 30 },
      ],
    });
    assert.deepEqual(saved, { saved: 4 });
    const listed = await ok('GET', '/v1/reorder-policies?supplierId=bolt', operator);
    assert.deepEqual(
      listed.map(({ updatedAt, ...p }: { updatedAt: string }) => (assert.ok(updatedAt), p)),
      [{ kind: 'dynamic', sku: 'B1', location: 'WH1', supplierId: 'bolt', safetyDays: 2, targetDays: 14, windowDays: WINDOW, updatedBy: 'ops' }],
    );
  });

  it('runs as a workflow: one suggestion per supplier with each low line, its reason and value, each held for the buyer; once a day', async () => {
    const done = await infra().client.workflow.execute('replenishment', { taskQueue: worker.taskQueue, workflowId: `replenishment-test-${Date.now()}` });
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(done.runKey, `replenishment/${today}`);
    assert.deepEqual(done.raised, [`exception/purchase_suggestion/replenishment/${today}/acme`, `exception/purchase_suggestion/replenishment/${today}/bolt`]);
    const held = await waitFor('both exceptions to open', async () => {
      const rows = await database.sql`SELECT subject, owner_id, status, summary FROM exceptions WHERE type = 'purchase_suggestion' ORDER BY subject`;
      return rows.length === 2 ? rows.map((r) => ({ ...r })) : undefined;
    });
    assert.deepEqual(
      held.map((h) => [h.subject, h.owner_id, h.status]),
      [[`replenishment/${today}/acme`, 'bea', 'open'], [`replenishment/${today}/bolt`, 'bea', 'open']],
    );
    assert.match(held[0].summary, /^Purchase suggestion \d+ for acme: 2 line\(s\), 90\.00 EUR$/);

    const run = await ok('GET', '/v1/purchase-suggestions', operator).then((suggestions) => ({ suggestions: suggestions as Awaited<ReturnType<typeof replenish>>['suggestions'] }));
    const summary = run.suggestions.map((s) => ({ supplierId: s.supplierId, value: s.value, status: s.status, lines: s.lines.map((l) => [l.sku, l.quantity, l.velocity, l.reorderPoint]) }));
    assert.deepEqual(summary, [
      // A1: 45 units of cover − 21 = 24, the MOQ (2 cases of 12) at 2.50; A2: 50 → 5 cases = 60 at 0.50.
      { supplierId: 'acme', value: 90, status: 'open', lines: [['A1', 24, 1.5, 21], ['A2', 60, 0, 10]] },
      // B1: 14 days of cover − 2 = 12 at 1.50.
      { supplierId: 'bolt', value: 18, status: 'open', lines: [['B1', 12, 1, 7]] },
    ]);
    assert.match(run.suggestions[0].lines[0].reason, /available 16 \+ incoming 5 = 21 ≤ reorder point 21 = 1\.5\/day × \(lead 10 \+ safety 4\) days/);
    assert.match(run.suggestions[0].lines[1].reason, /static reorder point 10; static quantity 50 → 60/);

    const again = await replenish(servicesFor(database, worker.taskQueue), new Date(), WINDOW);
    assert.equal(again.created, false);
    assert.deepEqual(again.suggestions, run.suggestions, 'the same day is the same run');
    const [{ n }] = await database.sql`SELECT count(*)::int AS n FROM purchase_suggestions`;
    assert.equal(n, 2);
  });

  it('counts only demand within the window: a month on, only the static policy is low', async () => {
    const later = await replenish(servicesFor(database, worker.taskQueue), new Date(Date.now() + (WINDOW + 1) * DAY), WINDOW);
    assert.equal(later.created, true);
    assert.deepEqual(later.suggestions.map((s) => [s.supplierId, s.lines.map((l) => l.sku)]), [['acme', ['A2']]]);
    const unheld = await app.inject({ method: 'POST', url: `/v1/purchase-suggestions/${later.suggestions[0].id}/approve`, headers: buyer, payload: {} });
    assert.equal(unheld.statusCode, 409, 'a run outside the workflow holds nothing for the buyer, so there is nothing to decide through');
    assert.equal(unheld.json().error, 'not_waiting');
  });

  it('lets the buyer approve with edited quantities, recomputing the value, and reject; a decision is final', async () => {
    const open = await ok('GET', '/v1/purchase-suggestions?status=open', operator);
    const acme = open.find((s: { supplierId: string; lines: unknown[] }) => s.supplierId === 'acme' && s.lines.length === 2);
    const bolt = open.find((s: { supplierId: string }) => s.supplierId === 'bolt');

    const stray = await app.inject({ method: 'POST', url: `/v1/purchase-suggestions/${acme.id}/approve`, headers: buyer, payload: { quantities: [{ lineNo: 3, quantity: 1 }] } });
    assert.equal(stray.statusCode, 400, stray.body);
    assert.match(stray.json().message, /quantities\.0\.lineNo: suggestion \d+ has no line 3/);
    const operatorOnly = await app.inject({ method: 'POST', url: `/v1/purchase-suggestions/${acme.id}/approve`, headers: operator, payload: {} });
    assert.equal(operatorOnly.statusCode, 403, 'deciding takes the approver role');
    const notEntitled = await app.inject({ method: 'POST', url: `/v1/purchase-suggestions/${acme.id}/approve`, headers: stranger, payload: {} });
    assert.equal(notEntitled.statusCode, 403, notEntitled.body);
    assert.match(notEntitled.json().message, /frank may not decide this exception/);

    const approved = await ok('POST', `/v1/purchase-suggestions/${acme.id}/approve`, buyer, { quantities: [{ lineNo: 1, quantity: 36 }] });
    assert.deepEqual(
      { status: approved.status, decidedBy: approved.decidedBy, value: approved.value, lines: approved.lines.map((l: { suggestedQuantity: number; quantity: number }) => [l.suggestedQuantity, l.quantity]) },
      { status: 'approved', decidedBy: 'bea', value: 36 * 2.5 + 60 * 0.5, lines: [[24, 36], [60, 60]] },
    );
    const rejected = await stockflow('suggestions', 'reject', String(bolt.id), '--reason', 'bought elsewhere');
    assert.equal(rejected.code, 0, rejected.stderr);
    assert.match(rejected.stdout, new RegExp(`^#${bolt.id} bolt rejected 18\\.00 EUR\n  1\\. B1@WH1 × 12: available 2`));
    const listed = await stockflow('suggestions', 'list', '--status', 'approved');
    assert.match(listed.stdout, new RegExp(`^#${acme.id} acme approved 120\\.00 EUR\n  1\\. A1@WH1 × 36: .*\n  2\\. A2@WH1 × 60: .*\n  purchase order PO-replenishment-\\d{4}-\\d\\d-\\d\\d-acme\n`));
    // The approval placed the order; closing it ends its workflow, which would otherwise outlive this suite.
    assert.equal(approved.purchaseOrder, `PO-${acme.runKey.replace('/', '-')}-acme`);
    const order = await ok('POST', `/v1/purchase-orders/${approved.purchaseOrder}/close`, buyer, { reason: 'test over' });
    assert.deepEqual(order.lines.map((l: { sku: string; ordered: number }) => [l.sku, l.ordered]), [['A1', 36], ['A2', 60]]);
    const closed = await database.sql`SELECT split_part(subject, '/', 3) AS supplier, status, decided_by FROM exceptions WHERE type = 'purchase_suggestion' ORDER BY subject`;
    assert.deepEqual(closed.map((c) => ({ ...c })), [{ supplier: 'acme', status: 'approved', decided_by: 'bea' }, { supplier: 'bolt', status: 'rejected', decided_by: 'bea' }]);

    const twice = await app.inject({ method: 'POST', url: `/v1/purchase-suggestions/${bolt.id}/approve`, headers: buyer, payload: {} });
    assert.equal(twice.statusCode, 409, twice.body);
    assert.match(twice.json().message, /already rejected by bea/);
  });

  it('adds safety stock for how much daily demand varies at a policy\'s service level', async () => {
    await addToCatalogue(database.db, { locations: [], items: [{ name: 'Lumpy', skus: ['V1'] }] });
    // 42 out on one day of the 28: 1.5/day on average, σ = √(42²/28 − 1.5²) = 7.794 units/day.
    await move('receive', 'V1', 92);
    await move('issue', 'V1', 42);
    await ok('PUT', '/v1/reorder-policies', operator, {
      policies: [{ kind: 'dynamic', sku: 'V1', location: 'WH1', supplierId: 'acme', safetyDays: 0, targetDays: 60, serviceLevel: 0.95 }],
    });
    assert.equal((await ok('GET', '/v1/reorder-policies?location=WH1', operator)).find((p: { sku: string }) => p.sku === 'V1').serviceLevel, 0.95);
    // Three days on, in its own day's run: 1.5 × 10 + 1.645 × 7.794 × √10 = 55.54 ≥ 50 available; without variability the point is 15.
    const run = await replenish(servicesFor(database, worker.taskQueue), new Date(Date.now() + 3 * DAY), WINDOW);
    const line = run.suggestions.flatMap((sg) => sg.lines).find((l) => l.sku === 'V1');
    assert.ok(line, 'V1 is low at its service level');
    assert.ok(Math.abs(line.reorderPoint - 55.54) < 0.01, `reorder point ${line.reorderPoint}`);
    assert.equal(line.quantity, 48, '90 units of cover − 50 = 40 → 4 cases of 12');
    assert.match(line.reason, /z\(0\.95\) 1\.64 × σ 7\.79\/day × √10/);
  });
});
