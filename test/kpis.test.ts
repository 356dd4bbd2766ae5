import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { formatKpis } from '../cli/kpis';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { registerSupplier } from '../db/suppliers';
import { StockOperation, type StockOperationInput } from '../schemas/stock';
import { createTestDatabase, defaultApiSettings, infra } from './harness';

const TOKEN = 'kpi-token';
const operator = { authorization: `Bearer ${TOKEN}` };

/**
 * A small history whose every KPI can be worked out by hand: stock moved through the ledger,
 * exceptions, feeds, orders and a reconciliation run written with the timestamps the KPIs measure.
 */
export async function seedKpiHistory(database: Database): Promise<void> {
  const apply = (op: StockOperationInput) => applyStockOperation(database.db, StockOperation.parse(op));
  await replaceOwnership(database.db, {
    owners: [
      { id: 'ivy', name: 'Ivy', contact: 'ivy@example.com', roles: ['inventory', 'approver'] },
      { id: 'rita', name: 'Rita', contact: 'rita@example.com', roles: ['inventory'] },
    ],
    rules: [{ owner: 'ivy', backup: 'rita', escalation: 'rita', ackSla: '1h', resolutionSla: '1d' }],
  });
  await addToCatalogue(database.db, {
    locations: [
      { code: 'WH1', name: 'Warehouse 1' },
      { code: 'SUP', name: 'Supplier stock' },
    ],
    items: [{ name: 'Measured', skus: ['K-1', 'K-2', 'K-3', 'K-4'] }],
  });
  await apply({ kind: 'receive', idempotencyKey: 'k1/in', sku: 'K-1', location: 'WH1', quantity: 10 });
  await apply({ kind: 'issue', idempotencyKey: 'k1/out', sku: 'K-1', location: 'WH1', quantity: 10 });
  await apply({ kind: 'receive', idempotencyKey: 'k1/again', sku: 'K-1', location: 'WH1', quantity: 4 });
  await apply({ kind: 'receive', idempotencyKey: 'k2/in', sku: 'K-2', location: 'WH1', quantity: 20 });
  await apply({ kind: 'adjust', idempotencyKey: 'k2/damaged', sku: 'K-2', location: 'WH1', delta: -3, reasonCode: 'damaged' });
  await apply({ kind: 'adjust', idempotencyKey: 'k2/theft', sku: 'K-2', location: 'WH1', delta: -2, reasonCode: 'theft' });
  await apply({ kind: 'adjust', idempotencyKey: 'k2/found', sku: 'K-2', location: 'WH1', delta: 1, reasonCode: 'found' });
  await apply({ kind: 'cycle_count', idempotencyKey: 'k2/count', sku: 'K-2', location: 'WH1', counted: 16 });
  await apply({ kind: 'receive', idempotencyKey: 'k3/in', sku: 'K-3', location: 'WH1', quantity: 100 });
  await apply({ kind: 'cycle_count', idempotencyKey: 'k3/count', sku: 'K-3', location: 'WH1', counted: 50 });
  await registerSupplier(database.db, { id: 'acme', name: 'Acme', location: 'SUP' });

  const sql = database.sql;
  const MINUTE = 60_000;
  const ago = (ms: number) => new Date(Date.now() - ms);
  const exception = async (e: { subject: string; type: string; owner: string; status: string; openedAgo: number; ackAfter?: number; resolveAfter?: number; orderId?: string; sku?: string; held?: number; supplierId?: string; location?: string }) => {
    const opened = ago(e.openedAgo);
    const after = (ms: number | undefined) => (ms === undefined ? null : new Date(opened.getTime() + ms).toISOString());
    const [row] = await sql`
      INSERT INTO exceptions (workflow_id, run_id, type, subject, severity, summary, status, owner_id, assignee_id, sku, location, supplier_id, order_id, held_change,
                              opened_at, acknowledged_at, resolved_at)
      VALUES (${`exception/${e.type}/${e.subject}`}, ${`run-${e.subject}`}, ${e.type}, ${e.subject}, 'medium', 'seeded', ${e.status}, ${e.owner}, ${e.owner},
              ${e.sku ?? null}, ${e.location ?? 'WH1'}, ${e.supplierId ?? null}, ${e.orderId ?? null},
              ${e.held === undefined ? null : JSON.stringify({ kind: 'set_on_hand', quantity: e.held })}::jsonb,
              ${opened.toISOString()}::timestamptz, ${after(e.ackAfter)}::timestamptz, ${after(e.resolveAfter)}::timestamptz)
      RETURNING id`;
    return Number(row.id);
  };
  await exception({ subject: 'a', type: 'ledger_delta', owner: 'ivy', status: 'open', openedAgo: 120 * MINUTE });
  const late = await exception({ subject: 'b', type: 'ledger_delta', owner: 'rita', status: 'acknowledged', openedAgo: 3 * 1440 * MINUTE, ackAfter: 10 * MINUTE });
  await exception({ subject: 'c', type: 'ledger_delta', owner: 'ivy', status: 'approved', openedAgo: 1440 * MINUTE, ackAfter: 20 * MINUTE, resolveAfter: 60 * MINUTE });
  await exception({ subject: 'shop/o-2/handoff', type: 'order_handoff', owner: 'ivy', status: 'open', openedAgo: 30 * MINUTE, orderId: 'o-2' });
  await exception({ subject: 'acme/f1/line-3', type: 'supplier_feed_line', owner: 'ivy', status: 'open', openedAgo: 5 * MINUTE, sku: 'K-4', held: 70, supplierId: 'acme', location: 'SUP' });
  await sql`INSERT INTO exception_events (exception_id, seq, action, actor, outcome, at) VALUES (${late}, 1001, 'escalate', 'sla-clock', 'accepted', now() - interval '2 days')`;

  const hourAgo = ago(60 * MINUTE);
  const at = (ms: number) => new Date(hourAgo.getTime() + ms).toISOString();
  const [feed] = await sql`
    INSERT INTO supplier_feeds (supplier_id, feed_id, format, content_hash, body, line_count, status, workflow_id, received_at)
    VALUES ('acme', 'f1', 'csv', 'h', 'x', 4, 'applied', 'feed/acme/f1', ${at(0)}::timestamptz) RETURNING id`;
  await sql`
    INSERT INTO feed_lines (feed_pk, line_no, supplier_sku, outcome, quantity, at) VALUES
      (${feed.id}, 1, 'A', 'applied', 5, ${at(2000)}::timestamptz),
      (${feed.id}, 2, 'B', 'applied', 5, ${at(4000)}::timestamptz),
      (${feed.id}, 3, 'C', 'held', 70, ${at(4000)}::timestamptz),
      (${feed.id}, 4, 'D', 'rejected', NULL, ${at(4000)}::timestamptz)`;
  await sql`
    INSERT INTO orders (workflow_id, channel, order_id, state, state_owner_id, location, lines) VALUES
      ('order/shop/o-1', 'shop', 'o-1', 'shipped', 'ivy', 'WH1', ${JSON.stringify([{ sku: 'K-2', quantity: 1 }])}::jsonb),
      ('order/shop/o-2', 'shop', 'o-2', 'paid', 'ivy', 'WH1', ${JSON.stringify([{ sku: 'K-2', quantity: 2 }, { sku: 'K-1', quantity: 3 }])}::jsonb),
      ('order/shop/o-3', 'shop', 'o-3', 'rejected', 'ivy', 'WH1', NULL)`;
  await sql`
    INSERT INTO order_events (channel, event_id, order_id, type, payload, received_at, delivered_at) VALUES
      ('shop', 'e1', 'o-1', 'order.placed', '{}', ${at(0)}::timestamptz, ${at(100)}::timestamptz),
      ('shop', 'e2', 'o-2', 'order.placed', '{}', ${at(0)}::timestamptz, ${at(300)}::timestamptz)`;
  await sql`
    INSERT INTO reconciliation_runs (run_key, checked, matched, deltas, ran_at)
    VALUES ('run-1', 8, 6, ${JSON.stringify([{ kind: 'snapshot_delta' }, { kind: 'ledger_drift' }])}::jsonb, now() - interval '1 day')`;
}

describe('KPIs (GET /v1/kpis)', () => {
  let database: Database;
  let api: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await seedKpiHistory(database);
    api = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: 'kpis-unused', apiToken: TOKEN });
  });

  after(async () => {
    await api?.close();
    await database?.close();
  });

  const kpis = async (query = '') => {
    const response = await api.inject({ method: 'GET', url: `/v1/kpis${query}`, headers: operator });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  };

  it('computes every live KPI of a known history', async () => {
    const k = await kpis('?window=7d');
    assert.equal(k.window.seconds, 7 * 86400);

    // K-3 counted 50 of 100: blocked, its 50 cannot sell; 70 held from a feed line; order o-2 (3 + 2 units) waits in an exception.
    assert.deepEqual([k.revenueAtRisk.countBlocked.units, k.revenueAtRisk.feedHeld.units, k.revenueAtRisk.ordersInExceptions.units], [50, 70, 5]);
    assert.equal(k.revenueAtRisk.units, 125);
    assert.equal(k.revenueAtRisk.ordersInExceptions.things, 1);
    assert.equal(k.revenueAtRisk.value, null);

    const latency = Object.fromEntries(k.updateLatency.map((r: { flow: string }) => [r.flow, r]));
    assert.deepEqual(latency.supplier_feed, { flow: 'supplier_feed', unit: 'ms', count: 2, p50: 3000, p95: 3900 });
    assert.deepEqual(latency.order_event, { flow: 'order_event', unit: 'ms', count: 2, p50: 200, p95: 290 });

    assert.deepEqual(k.failedUpdateRate, [
      { source: 'channel:shop', received: 3, refused: 1, rejected: 0, held: 1, rate: 2 / 3 },
      { source: 'supplier:acme', received: 4, refused: 0, rejected: 1, held: 1, rate: 0.5 },
    ]);

    assert.equal(k.exceptionBacklog.total, 4);
    const ivyLedger = k.exceptionBacklog.rows.find((r: { owner: string; type: string }) => r.owner === 'ivy' && r.type === 'ledger_delta');
    assert.deepEqual({ ...ivyLedger, oldestSeconds: undefined }, { owner: 'ivy', type: 'ledger_delta', open: 1, acknowledged: 0, under1h: 0, under1d: 1, under7d: 0, over7d: 0, oldestSeconds: undefined });
    assert.equal(k.exceptionBacklog.oldest[0].workflowId, 'exception/ledger_delta/b');

    assert.deepEqual(k.slaBreaches, { total: 1, byOwner: [{ owner: 'rita', breaches: 1 }] });
    assert.deepEqual(k.timeToAcknowledge, { count: 2, p50: 900, p95: 1170, unit: 's' });
    assert.deepEqual(k.timeToResolve, { count: 1, p50: 3600, p95: 3600, unit: 's' });
    assert.deepEqual(
      k.reconciliation.runs.map((r: { checked: number; deltas: number; byKind: unknown }) => [r.checked, r.deltas, r.byKind]),
      [[8, 2, { ledger_drift: 1, snapshot_delta: 1 }]],
    );

    // K-2 counted 16 of 16 (ok), K-3 50 of 100 (blocked).
    assert.deepEqual(k.stockAccuracy, { numerator: 1, denominator: 2, share: 0.5 });
    // A count's variance is booked as an adjustment: K-3's 50 missing units are shrinkage too.
    assert.deepEqual(k.shrinkage, {
      units: 55,
      value: null,
      byReason: [
        { reasonCode: 'count_variance', units: 50, value: null },
        { reasonCode: 'damaged', units: 3, value: null },
        { reasonCode: 'theft', units: 2, value: null },
      ],
    });
    // K-1 went from 10 to 0 once and is back; K-3's count took it 100 → 50 (not out).
    assert.equal(k.stockouts.events, 1);
    assert.equal(k.stockouts.skuLocations, 1);
    assert.ok(k.stockouts.daysOutOfStock > 0 && k.stockouts.daysOutOfStock < 1 / 24, `${k.stockouts.daysOutOfStock}`);

    // Everything arrived inside the window: opened at 0, closes at 4 + 16 + 50.
    assert.deepEqual({ ...k.inventoryTurnover }, { unitsIssued: 10, openingUnits: 0, closingUnits: 70, unitTurns: 10 / 35, valueTurns: null });
    assert.deepEqual(k.ordersNeedingPerson, { numerator: 1, denominator: 3, share: 1 / 3 });

    const today = new Date().toISOString().slice(0, 10);
    const todayAt = k.trend.days.indexOf(today);
    assert.equal(k.trend.days.length, 8);
    assert.equal(k.trend.shrinkageUnits[todayAt], 55);
    assert.equal(k.trend.stockouts[todayAt], 1);
    assert.equal(k.trend.adjustmentsByReason.found[todayAt], 1);
    assert.equal(k.trend.countsWithinTolerance[todayAt], 0.5);
    assert.equal(k.trend.feedLinesFailed.reduce((a: number, b: number) => a + b, 0), 2);

    const printed = formatKpis(k);
    assert.match(printed, /REVENUE AT RISK {2}125 units \(value: no prices yet\)/);
    assert.match(printed, /stock accuracy +50\.0% \(1 of 2 counted/);
    assert.match(printed, /supplier:acme +4 +0 +1 +1 +50\.0%/);
  });

  it('narrows to one owner or one location', async () => {
    const rita = await kpis('?owner=rita');
    assert.equal(rita.exceptionBacklog.total, 1);
    assert.equal(rita.revenueAtRisk.units, 0);
    assert.equal(rita.ordersNeedingPerson.denominator, 0);
    const supplierSite = await kpis('?location=SUP');
    assert.deepEqual(supplierSite.failedUpdateRate.map((r: { source: string }) => r.source), ['supplier:acme']);
    assert.equal(supplierSite.revenueAtRisk.feedHeld.units, 70);
    assert.equal(supplierSite.revenueAtRisk.countBlocked.units, 0);
    assert.equal(supplierSite.stockAccuracy.denominator, 0);
  });

  it('refuses a window it cannot measure, naming the field, and answers only the operator', async () => {
    const bad = await api.inject({ method: 'GET', url: '/v1/kpis?window=120d', headers: operator });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /window/);
    const anonymous = await api.inject({ method: 'GET', url: '/v1/kpis' });
    assert.equal(anonymous.statusCode, 401);
  });
});
