import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { signedHeaders } from '../api/auth';
import { buildApi } from '../api/server';
import { decideException } from '../services/exceptions';
import { ensureSchedules } from '../services/schedules';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { waitFor } from '../runtime/wait';
import { StockOperation, type StockOperationInput } from '../schemas/stock';
import type { reservationSweep } from '../workflows/reservation-sweep';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, type RunningWorker } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';
import { scheduleIds } from '../domain/keys';

const SECRET = 'reconciliation-secret';
const TOKEN = 'reconciliation-token';
const operator = { authorization: `Bearer ${TOKEN}` };

describe('daily reconciliation and the reservation sweep', () => {
  let database: Database;
  let worker: RunningWorker;
  let api: FastifyInstance;

  const apply = (op: StockOperationInput) => applyStockOperation(database.db, StockOperation.parse(op));

  before(async () => {
    database = await createTestDatabase();
    await replaceOwnership(database.db, {
      owners: [
        { id: 'ivy', name: 'Ivy', contact: 'ivy@example.com', roles: ['inventory', 'approver'] },
        { id: 'rita', name: 'Rita', contact: 'rita@example.com', roles: ['inventory'] },
        { id: 'ola', name: 'Ola', contact: 'ola@example.com', roles: ['operations'] },
      ],
      rules: [
        { owner: 'ivy', backup: 'ola', escalation: 'ola', ackSla: '1h', resolutionSla: '1d' },
        { match: { skuPrefix: 'REC-2' }, owner: 'rita', backup: 'ivy', escalation: 'ola', ackSla: '1h', resolutionSla: '1d' },
      ],
    });
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Kept', skus: ['REC-1', 'REC-2', 'REC-3', 'REC-4'] }] });
    for (const sku of ['REC-1', 'REC-2', 'REC-3', 'REC-4']) await apply({ kind: 'receive', idempotencyKey: `seed/${sku}`, sku, location: 'WH1', quantity: 10 });
    worker = await startTestWorker(database, 'reconcile');
    api = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, webhookSecret: SECRET, apiToken: TOKEN });
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await database?.close();
  });

  function postSnapshot(payload: string, contentType: string, query = '') {
    return api.inject({ method: 'POST', url: `/v1/reconciliation/snapshots${query}`, payload, headers: { 'content-type': contentType, ...signedHeaders(SECRET, payload) } });
  }

  it('finds an injected on-hand delta, ledger drift and an orphan reservation, and gives each to its owner', async () => {
    const imported = await postSnapshot('sku,location,on_hand\nREC-1,WH1,10\n"REC-2",WH1,7\nREC-4,WH1,10\n', 'text/csv', '?source=erp');
    assert.equal(imported.statusCode, 201, imported.body);
    assert.equal(imported.json().lines, 3);
    await apply({ kind: 'reserve', idempotencyKey: 'ghost/reserve/1', sku: 'REC-3', location: 'WH1', quantity: 2, orderRef: 'order/shop/ghost' });
    // Drift that no operation can produce: the balance changed behind the ledger's back.
    await database.sql`UPDATE stock_balances SET incoming = incoming + 5 WHERE variant_id = (SELECT id FROM variants WHERE sku = 'REC-4')`;
    try {
      const run = await api.inject({ method: 'POST', url: '/v1/reconciliation/runs', headers: operator });
      assert.equal(run.statusCode, 200, run.body);
      const report = run.json();
      // 4 balances + 1 active reservation + 3 snapshot lines.
      assert.equal(report.checked, 8);
      assert.equal(report.matched, 5);
      assert.deepEqual(
        report.deltas.map((d: { kind: string; sku: string }) => [d.kind, d.sku]),
        [
          ['ledger_drift', 'REC-4'],
          ['orphan_reservation', 'REC-3'],
          ['snapshot_delta', 'REC-2'],
        ],
      );
      assert.deepEqual(report.deltas[2], { kind: 'snapshot_delta', sku: 'REC-2', location: 'WH1', ours: 10, theirs: 7, difference: -3 });
      assert.deepEqual(report.deltas[0].buckets, { incoming: { balance: 5, ledger: 0 } });

      const stored = await api.inject({ method: 'GET', url: `/v1/reconciliation/runs/${report.runId}`, headers: operator });
      assert.deepEqual(stored.json(), report);

      const raised = await waitFor('the three exceptions', async () => {
        const rows = await database.sql`SELECT id, workflow_id, subject, owner_id, held_change, requires_evidence FROM exceptions WHERE type = 'reconciliation_delta' ORDER BY subject`;
        return rows.length === 3 ? rows : undefined;
      });
      assert.deepEqual(
        raised.map((r) => [r.subject, r.owner_id, r.held_change?.kind ?? null, r.requires_evidence]),
        [
          ['ledger:REC-4@WH1', 'ivy', null, false],
          [`orphan:${report.deltas[1].reservationKey}`, 'ivy', 'release', false],
          ['snapshot:REC-2@WH1', 'rita', 'adjust', true],
        ],
      );

      const decided = await decideException({ db: database.db, client: infra().client }, raised[1].workflow_id, { action: 'approve', by: 'ivy', reason: 'no such order' });
      assert.equal(decided.accepted, true);
      const [reservation] = await database.sql`SELECT status FROM reservations WHERE idempotency_key = 'ghost/reserve/1'`;
      assert.equal(reservation.status, 'expired');
    } finally {
      await database.sql`UPDATE stock_balances SET incoming = incoming - 5 WHERE variant_id = (SELECT id FROM variants WHERE sku = 'REC-4')`;
    }
    await assertLedgerMatchesBalances(database);
  });

  it('refuses a snapshot with a bad line, naming it, and imports nothing', async () => {
    const [before] = await database.sql`SELECT count(*)::int AS n FROM reconciliation_snapshots`;
    const response = await postSnapshot(JSON.stringify({ source: 'erp', lines: [{ sku: 'REC-1', location: 'WH1', onHand: 1.5 }] }), 'application/json');
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json().issues, [{ field: 'lines.0.onHand', reason: 'must be a whole number of base units' }]);
    const csv = await postSnapshot('sku,qty\nREC-1,4\n', 'text/csv', '?source=erp');
    assert.equal(csv.statusCode, 400);
    assert.match(csv.json().message, /lacks location, on_hand/);
    const [after] = await database.sql`SELECT count(*)::int AS n FROM reconciliation_snapshots`;
    assert.equal(after.n, before.n);
  });

  it('sweeps a reservation whose expiry passed without its workflow releasing it', async () => {
    await apply({ kind: 'reserve', idempotencyKey: 'stale/reserve/1', sku: 'REC-1', location: 'WH1', quantity: 3, orderRef: 'order/shop/stale', ttlSeconds: 1 });
    await waitFor('the reservation to pass its expiry', async () => {
      const [row] = await database.sql`SELECT expires_at < now() AS passed FROM reservations WHERE idempotency_key = 'stale/reserve/1'`;
      return row.passed ? true : undefined;
    });
    const outcome = await infra().client.workflow.execute<typeof reservationSweep>('reservationSweep', { taskQueue: worker.taskQueue, workflowId: `sweep-${worker.taskQueue}` });
    assert.equal(outcome.released, 1);
    const [reservation] = await database.sql`SELECT status FROM reservations WHERE idempotency_key = 'stale/reserve/1'`;
    assert.equal(reservation.status, 'expired');
    await assertLedgerMatchesBalances(database);
  });

  it('creates its schedules once, however often the stack starts', async () => {
    const client = infra().client;
    try {
      assert.deepEqual(await ensureSchedules(client, worker.taskQueue), Object.values(scheduleIds).map((id) => id(worker.taskQueue)));
      assert.deepEqual(await ensureSchedules(client, worker.taskQueue), []);
      const daily = await client.schedule.getHandle(scheduleIds.dailyReconciliation(worker.taskQueue)).describe();
      assert.equal(daily.action.type === 'startWorkflow' && daily.action.workflowType, 'dailyReconciliation');
      assert.deepEqual(
        daily.spec.calendars?.map((c) => [c.hour, c.minute]),
        [[[{ start: 2, end: 2, step: 1 }], [{ start: 0, end: 0, step: 1 }]]],
      );
    } finally {
      await Promise.all(Object.values(scheduleIds).map((id) => client.schedule.getHandle(id(worker.taskQueue)).delete()));
    }
  });
});
