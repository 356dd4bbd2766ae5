import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { formatKpis } from '../cli/kpis';
import { addToCatalogue } from '../db/catalogue';
import { registerChannel } from '../db/channels';
import type { Database } from '../db/connection';
import { rollUpMovementDays } from '../db/kpis';
import { ChannelRegistration } from '../schemas/channels';
import { computeKpis } from '../services/kpis';
import { createTestDatabase, defaultApiSettings, infra } from './harness';
import { seedKpiHistory } from './kpi-history';

const TOKEN = 'kpi-token';
const operator = { authorization: `Bearer ${TOKEN}` };

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
    assert.deepEqual(
      { ...k.inventoryTurnover },
      { unitsIssued: 10, openingUnits: 0, closingUnits: 70, unitTurns: 10 / 35, costOfGoodsIssued: null, openingValue: null, closingValue: null, valueTurns: null },
      'no costs yet: the money figures wait for them',
    );
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
    assert.match(printed, /by ABC class +A —, B —, C 50\.0%/, 'no classes computed: every counted SKU is C');
    assert.match(printed, /supplier:acme +4 +0 +1 +1 +50\.0%/);
  });

  it('reads settled days of turnover, in units and at cost, from the daily rollup and the rest from the ledger, with the same figures', async () => {
    const past = await createTestDatabase();
    try {
      await addToCatalogue(past.db, { locations: [{ code: 'OLD', name: 'Old stock' }], items: [{ name: 'Aged', skus: ['AGED-1'] }] });
      // History written as the bench writes it: movements days back cannot go through today's ledger.
      const moves: [number, 'receive' | 'issue', number][] = [[20, 'receive', 30], [12.5, 'issue', 4], [6, 'issue', 7], [3, 'receive', 5], [0.5, 'issue', 2], [0, 'issue', 1]];
      for (const [n, [daysAgo, kind, units]] of moves.entries()) {
        await past.sql`
          WITH op AS (INSERT INTO stock_operations (idempotency_key, kind, request_hash, actor, created_at)
                      VALUES (${`aged/${n}`}, ${kind}, 'h', 'test', now() - ${daysAgo} * interval '1 day') RETURNING id, idempotency_key, kind, created_at)
          INSERT INTO stock_movements (operation_id, idempotency_key, variant_id, location_id, kind, delta_on_hand, actor, created_at)
          SELECT op.id, op.idempotency_key, v.id, l.id, op.kind, ${kind === 'issue' ? -units : units}, 'test', op.created_at
          FROM op, variants v, locations l WHERE v.sku = 'AGED-1' AND l.code = 'OLD'`;
      }
      await past.sql`
        INSERT INTO stock_balances (variant_id, location_id, on_hand)
        SELECT variant_id, location_id, sum(delta_on_hand) FROM stock_movements GROUP BY 1, 2`;
      // Cost 2 from before the window, 3 from five days ago.
      await past.sql`
        INSERT INTO variant_prices (variant_id, price, cost, currency, valid_from, source)
        SELECT id, 5, 2, 'EUR', now() - interval '30 days', 'test' FROM variants WHERE sku = 'AGED-1'
        UNION ALL SELECT id, 6, 3, 'EUR', now() - interval '5 days', 'test' FROM variants WHERE sku = 'AGED-1'`;
      const turnover = async () => (await computeKpis({ db: past.db }, { window: 15 * 86400 })).inventoryTurnover;
      const fromLedger = await turnover();
      assert.deepEqual([fromLedger.unitsIssued, fromLedger.openingUnits, fromLedger.closingUnits], [14, 30, 21]);
      // Issued at cost: 4 × 2 + 7 × 2 + 2 × 3 + 1 × 3 = 31. Closing 21 × 3 = 63; the window moved
      // −4×2 −7×2 +5×3 −2×3 −1×3 = −16 at cost, so it opened at 79; turns 31 / 71.
      assert.deepEqual(
        [fromLedger.costOfGoodsIssued, fromLedger.openingValue, fromLedger.closingValue, fromLedger.valueTurns],
        [31, 79, 63, 31 / 71],
      );

      const through = await rollUpMovementDays(past.db);
      assert.equal(through, new Date(Date.now() - 2 * 86400_000).toISOString().slice(0, 10));
      assert.deepEqual(await turnover(), fromLedger);
      assert.equal(await rollUpMovementDays(past.db), through, 'rolling up again changes nothing');
      assert.deepEqual(await turnover(), fromLedger);

      // The rolled-up days are what the figure reads: a rollup row changed by hand shows.
      await past.sql`UPDATE movement_days SET issued = issued + 100, issued_cost = issued_cost + 1000 WHERE day = (SELECT max(day) FROM movement_days)`;
      assert.deepEqual([(await turnover()).unitsIssued, (await turnover()).costOfGoodsIssued], [114, 1031]);
    } finally {
      await past.close();
    }
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

  it('adds up figures beyond the range of a balance without overflowing (fuzzer, seed 17)', async () => {
    await database.sql`
      INSERT INTO adjustments (idempotency_key, variant_id, location_id, delta, reason_code, actor)
      SELECT 'huge/' || n, (SELECT id FROM variants WHERE sku = 'K-2'), (SELECT id FROM locations WHERE code = 'WH1'), -2000000000, 'lost', 'fuzz'
      FROM generate_series(1, 2) n`;
    const k = await kpis();
    assert.equal(k.shrinkage.byReason.find((r: { reasonCode: string }) => r.reasonCode === 'lost').units, 4_000_000_000);
  });

  it('refuses a window it cannot measure, naming the field, and answers only the operator', async () => {
    const bad = await api.inject({ method: 'GET', url: '/v1/kpis?window=120d', headers: operator });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /window/);
    for (const query of ['?owner=null', '?location=a%00b']) {
      assert.equal((await api.inject({ method: 'GET', url: `/v1/kpis${query}`, headers: operator })).statusCode, 400, query);
    }
    const anonymous = await api.inject({ method: 'GET', url: '/v1/kpis' });
    assert.equal(anonymous.statusCode, 401);
  });
  it('values units at risk at the price and shrinkage at the cost that stood at the window end', async () => {
    const before = await kpis('?window=7d');
    // A past price the current one replaced, the current one, and a price that starts tomorrow.
    await database.sql`
      INSERT INTO variant_prices (variant_id, price, cost, currency, valid_from, source)
      SELECT id, 9, 4, 'EUR', now() - interval '10 days', 'test' FROM variants
      UNION ALL SELECT id, 2.5, 1, 'EUR', now() - interval '1 day', 'test' FROM variants
      UNION ALL SELECT id, 100, 50, 'EUR', now() + interval '1 day', 'test' FROM variants`;
    const k = await kpis('?window=7d');
    assert.equal(k.revenueAtRisk.value, before.revenueAtRisk.units * 2.5);
    assert.equal(k.revenueAtRisk.countBlocked.value, before.revenueAtRisk.countBlocked.units * 2.5);
    assert.equal(k.shrinkage.value, before.shrinkage.units * 1);
    assert.deepEqual(
      k.shrinkage.byReason.map((r: { units: number; value: number }) => r.value),
      before.shrinkage.byReason.map((r: { units: number }) => r.units * 1),
    );
  });

  it('values channel figures stale past their window at the units they are off by, and reports each channel\'s lag', async () => {
    const before = await kpis('?window=7d');
    assert.deepEqual([before.revenueAtRisk.channelStale.units, before.channelSync], [0, []]);
    await registerChannel(
      database.db,
      ChannelRegistration.parse({
        id: 'kpi-shop',
        kind: 'webhook',
        name: 'KPI shop',
        owner: 'ivy',
        locations: ['WH1'],
        settings: { url: 'http://127.0.0.1:9/never-called' },
        secretRef: 'env:KPI_SHOP_SECRET',
        staleAfter: 60,
        skus: [{ sku: 'K-1', externalId: 'k-1' }, { sku: 'K-2', externalId: 'k-2' }],
      }),
    );
    // The channel was told 10 of K-1 an hour ago and nothing since; K-2's change is only a moment old.
    await database.sql`
      INSERT INTO channel_publications (channel_id, variant_id, published, version) SELECT 'kpi-shop', id, 10, 1 FROM variants WHERE sku = 'K-1'`;
    await database.sql`
      UPDATE channel_pending SET first_changed_at = now() - interval '1 hour'
      WHERE channel_id = 'kpi-shop' AND variant_id = (SELECT id FROM variants WHERE sku = 'K-1')`;
    const available = (await api.inject({ method: 'GET', url: '/v1/stock/K-1', headers: operator })).json().locations.find((l: { location: string }) => l.location === 'WH1').available;

    const k = await kpis('?window=7d');
    assert.deepEqual(k.revenueAtRisk.channelStale.bySku, [{ sku: 'K-1', units: Math.abs(10 - available) }]);
    assert.equal(k.revenueAtRisk.channelStale.things, 1);
    assert.equal(k.revenueAtRisk.units, before.revenueAtRisk.units + Math.abs(10 - available));
    assert.equal(k.channelSync.length, 1);
    const [sync] = k.channelSync;
    assert.deepEqual([sync.channel, sync.owner, sync.pendingSkus, sync.staleSkus, sync.staleAfterSeconds], ['kpi-shop', 'ivy', 2, 1, 60]);
    assert.ok(sync.lagSeconds >= 3600 && sync.lagSeconds < 3700, `lag ${sync.lagSeconds}`);
    assert.deepEqual((await kpis('?window=7d&owner=rita')).channelSync, [], 'another owner\'s view has no channel of ivy\'s');
  });
});
