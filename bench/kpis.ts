import { Client } from '@temporalio/client';
import { buildApi } from '../api/server';
import { connect, type Database } from '../db/connection';
import { apiSettingsOf } from '../runtime/composition';
import { DEFAULT_CONFIG } from '../schemas/config';
import type { Kpis } from '../schemas/kpis';
import { fmt, median, seedBenchCatalogue } from './common';

const VARIANTS = 10_000;
const LOCATIONS = 2;
const MOVEMENTS = 1_000_000;
const DAYS = 90;
const RUNS = 5;
const TARGET_MS = 500;

/**
 * 90 days of history written straight in SQL (the ledger's own path would take hours): 20,000
 * SKU-locations, 1,000,000 movements with their operations, adjustments, counts, exceptions, feed
 * lines and orders, and balances equal to the sum of their movements.
 */
export async function generate(database: Database): Promise<void> {
  const sql = database.sql;
  await seedBenchCatalogue(sql, VARIANTS, LOCATIONS);
  await sql`INSERT INTO owners (id, name, contact) VALUES ('ivy', 'Ivy', 'ivy@example.com'), ('rita', 'Rita', 'rita@example.com')`;
  await sql`INSERT INTO stock_balances (variant_id, location_id, allow_negative) SELECT v.id, l.id, true FROM variants v CROSS JOIN locations l`;
  await sql`
    INSERT INTO stock_operations (idempotency_key, kind, request_hash, actor, created_at)
    SELECT 'bench/' || n, CASE WHEN n % 3 = 0 THEN 'issue' ELSE 'receive' END, 'h', 'bench', now() - ((${DAYS} * 86400 - 3600) * (1 - n::float8 / ${MOVEMENTS})) * interval '1 second'
    FROM generate_series(1, ${MOVEMENTS}) n`;
  // Each balance gets movements spread over the 90 days; issues take a little more than receipts give, so stock runs out now and then.
  await sql`
    INSERT INTO stock_movements (operation_id, idempotency_key, variant_id, location_id, kind, delta_on_hand, actor, created_at)
    SELECT o.id, o.idempotency_key, 1 + (o.id % ${VARIANTS}), 1 + ((o.id / ${VARIANTS}) % ${LOCATIONS}), o.kind,
           CASE WHEN o.kind = 'issue' THEN -1 - (o.id % 7)::int ELSE 1 + (o.id % 5)::int END, 'bench', o.created_at
    FROM stock_operations o`;
  await sql`
    UPDATE stock_balances b SET on_hand = m.total
    FROM (SELECT variant_id, location_id, sum(delta_on_hand)::int AS total FROM stock_movements GROUP BY 1, 2) m
    WHERE b.variant_id = m.variant_id AND b.location_id = m.location_id`;
  await sql`
    INSERT INTO adjustments (idempotency_key, variant_id, location_id, delta, reason_code, actor, created_at)
    SELECT 'bench/adj/' || n, 1 + n % ${VARIANTS}, 1 + n % ${LOCATIONS}, CASE WHEN n % 4 = 0 THEN 2 ELSE -1 - n % 3 END,
           (ARRAY['damaged', 'lost', 'theft', 'found'])[1 + n % 4], 'bench', now() - (n % (${DAYS} * 24)) * interval '1 hour'
    FROM generate_series(1, 50000) n`;
  await sql`
    INSERT INTO cycle_counts (idempotency_key, variant_id, location_id, expected, counted, variance, variance_pct, outcome, actor, created_at)
    SELECT 'bench/count/' || n, 1 + n % ${VARIANTS}, 1 + n % ${LOCATIONS}, 100, 100 - n % 15, -(n % 15), n % 15,
           CASE WHEN n % 15 > 10 THEN 'blocked' WHEN n % 15 > 5 THEN 'investigate' ELSE 'ok' END, 'bench', now() - (n % ${DAYS}) * interval '1 day'
    FROM generate_series(1, 20000) n`;
  await sql`UPDATE stock_balances SET count_status = 'blocked' WHERE (variant_id + location_id) % 97 = 0`;
  await sql`
    INSERT INTO exceptions (workflow_id, run_id, type, subject, severity, summary, status, owner_id, assignee_id, location, order_id,
                            opened_at, acknowledged_at, resolved_at)
    SELECT 'exception/bench/' || n, 'run-' || n, (ARRAY['ledger_delta', 'supplier_feed_line', 'order_handoff'])[1 + n % 3], 's' || n, 'medium', 'bench',
           CASE WHEN n % 10 = 0 THEN 'open' WHEN n % 10 = 1 THEN 'acknowledged' ELSE 'approved' END,
           (ARRAY['ivy', 'rita'])[1 + n % 2], (ARRAY['ivy', 'rita'])[1 + n % 2], 'L' || (1 + n % ${LOCATIONS}),
           CASE WHEN n % 3 = 2 THEN 'o-' || n END,
           now() - (n % (${DAYS} * 24)) * interval '1 hour',
           CASE WHEN n % 10 <> 0 THEN now() - (n % (${DAYS} * 24)) * interval '1 hour' + interval '20 minutes' END,
           CASE WHEN n % 10 > 1 THEN now() - (n % (${DAYS} * 24)) * interval '1 hour' + interval '3 hours' END
    FROM generate_series(1, 5000) n`;
  await sql`
    INSERT INTO exception_events (exception_id, seq, action, actor, outcome, at)
    SELECT id, 1001, 'escalate', 'sla-clock', 'accepted', opened_at + interval '1 hour' FROM exceptions WHERE id % 7 = 0`;
  await sql`INSERT INTO suppliers (id, name, location_id) VALUES ('acme', 'Acme', 2)`;
  await sql`
    INSERT INTO supplier_feeds (supplier_id, feed_id, format, content_hash, body, line_count, status, workflow_id, received_at)
    SELECT 'acme', 'f' || n, 'csv', 'h', '', 1000, 'applied', 'feed/acme/f' || n, now() - (n % ${DAYS}) * interval '1 day' FROM generate_series(1, 100) n`;
  await sql`
    INSERT INTO feed_lines (feed_pk, line_no, variant_id, quantity, outcome, at)
    SELECT f.id, l, 1 + l % ${VARIANTS}, 10, (ARRAY['applied', 'applied', 'applied', 'stale', 'held', 'rejected'])[1 + l % 6], f.received_at + l * interval '10 milliseconds'
    FROM supplier_feeds f CROSS JOIN generate_series(1, 1000) l`;
  await sql`
    INSERT INTO orders (workflow_id, channel, order_id, state, state_owner_id, location, lines, created_at)
    SELECT 'order/shop/o-' || n, 'shop', 'o-' || n, (ARRAY['closed', 'closed', 'shipped', 'rejected', 'paid'])[1 + n % 5], 'ivy', 'L1',
           jsonb_build_array(jsonb_build_object('sku', 'B-' || (1 + n % ${VARIANTS}), 'quantity', 1 + n % 3)), now() - (n % (${DAYS} * 24)) * interval '1 hour'
    FROM generate_series(1, 50000) n`;
  await sql`
    INSERT INTO reconciliation_runs (run_key, checked, matched, deltas, ran_at)
    SELECT 'bench/' || n, 20000, 19990, (SELECT jsonb_agg(jsonb_build_object('kind', 'snapshot_delta')) FROM generate_series(1, 10)), now() - n * interval '1 day'
    FROM generate_series(1, ${DAYS - 1}) n`;
  // Prices and costs with a history (a change 30 days ago), so every money figure is computed.
  await sql`
    INSERT INTO variant_prices (variant_id, price, cost, currency, valid_from, source)
    SELECT id, 10 + id % 40, 4 + id % 15, 'EUR', now() - interval '100 days', 'bench' FROM variants
    UNION ALL SELECT id, 11 + id % 40, 5 + id % 15, 'EUR', now() - interval '30 days', 'bench' FROM variants`;
  // The movements were written straight in SQL, past the balances' trigger: the periods come from the ledger.
  await sql`SELECT stockout_periods_rebuild()`;
  // What the KPI alert schedule does every five minutes: the settled days rolled up.
  await sql`SELECT roll_up_movement_days()`;
  await sql`ANALYZE`;
}

/**
 * The baseline: the headline figures the API reports, as one hand-written statement. The stockout
 * walk, the heaviest part, is the same arithmetic; the rest is plain aggregation.
 */
async function handWritten(database: Database): Promise<{ events: number; skuLocations: number; shrinkage: number; counted: number; ok: number; backlog: number; risk: number }> {
  const [row] = await database.sql`
    WITH walked AS (
      SELECT m.variant_id, m.location_id, m.delta_on_hand,
             b.on_hand - sum(m.delta_on_hand) OVER w + m.delta_on_hand AS after
      FROM stock_movements m JOIN stock_balances b USING (variant_id, location_id)
      WHERE m.delta_on_hand <> 0 AND m.created_at >= now() - ${DAYS} * interval '1 day'
      WINDOW w AS (PARTITION BY m.variant_id, m.location_id ORDER BY m.created_at DESC, m.id DESC ROWS UNBOUNDED PRECEDING)
    )
    SELECT
      (SELECT count(*) FROM walked WHERE after <= 0 AND after - delta_on_hand > 0)::int AS events,
      (SELECT count(DISTINCT (variant_id, location_id)) FROM walked WHERE after <= 0)::int AS "skuLocations",
      (SELECT -sum(delta) FROM adjustments WHERE delta < 0 AND created_at >= now() - ${DAYS} * interval '1 day')::int AS shrinkage,
      (SELECT count(*) FROM (SELECT DISTINCT ON (variant_id, location_id) outcome FROM cycle_counts ORDER BY variant_id, location_id, id DESC) c)::int AS counted,
      (SELECT count(*) FROM (SELECT DISTINCT ON (variant_id, location_id) outcome FROM cycle_counts ORDER BY variant_id, location_id, id DESC) c WHERE outcome = 'ok')::int AS ok,
      (SELECT count(*) FROM exceptions WHERE status IN ('open', 'acknowledged'))::int AS backlog,
      (SELECT coalesce(sum(greatest(on_hand, 0)), 0) FROM stock_balances WHERE count_status = 'blocked')::int AS risk`;
  return row as never;
}

export async function benchKpis(databaseUrl: string): Promise<boolean> {
  const database = connect(databaseUrl, { max: 20 });
  // GET /v1/kpis needs no Temporal: the client is never connected.
  const api = await buildApi({ ...apiSettingsOf(DEFAULT_CONFIG), database, client: new Client() });
  try {
    const started = Date.now();
    await generate(database);
    const [size] = await database.sql`
      SELECT (SELECT count(*) FROM stock_movements)::int AS movements, (SELECT count(*) FROM stock_balances)::int AS balances,
             (SELECT count(*) FROM adjustments)::int AS adjustments, (SELECT count(*) FROM cycle_counts)::int AS counts,
             (SELECT count(*) FROM exceptions)::int AS exceptions, (SELECT count(*) FROM feed_lines)::int AS "feedLines",
             (SELECT count(*) FROM orders)::int AS orders, pg_size_pretty(pg_database_size(current_database())) AS size`;
    console.log(
      `data set: ${fmt(size.movements)} movements over ${DAYS} days, ${fmt(size.balances)} SKU-locations, ${fmt(size.adjustments)} adjustments, ` +
        `${fmt(size.counts)} counts, ${fmt(size.exceptions)} exceptions, ${fmt(size.feedLines)} feed lines, ${fmt(size.orders)} orders; ` +
        `database ${size.size} (generated in ${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );

    const apiTimes: number[] = [];
    const baselineTimes: number[] = [];
    let kpis: Kpis | undefined;
    let baseline: Awaited<ReturnType<typeof handWritten>> | undefined;
    for (let run = 0; run <= RUNS; run++) {
      let t = performance.now();
      const response = await api.inject({ method: 'GET', url: `/v1/kpis?window=${DAYS}d` });
      const apiMs = performance.now() - t;
      if (response.statusCode !== 200) throw new Error(`GET /v1/kpis answered ${response.statusCode}: ${response.body}`);
      kpis = response.json();
      t = performance.now();
      baseline = await handWritten(database);
      const baselineMs = performance.now() - t;
      // The first run warms the caches and plans; it is not measured.
      if (run > 0) {
        apiTimes.push(apiMs);
        baselineTimes.push(baselineMs);
      }
    }
    const k = kpis as Kpis;
    const b = baseline as NonNullable<typeof baseline>;
    const same =
      k.stockouts.events === b.events &&
      k.stockouts.skuLocations >= b.skuLocations &&
      k.shrinkage.units === b.shrinkage &&
      k.stockAccuracy.denominator === b.counted &&
      k.stockAccuracy.numerator === b.ok &&
      k.exceptionBacklog.total === b.backlog &&
      k.revenueAtRisk.countBlocked.units === b.risk;
    const apiMedian = median(apiTimes);
    const baselineMedian = median(baselineTimes);
    console.log(`GET /v1/kpis?window=${DAYS}d   median ${apiMedian.toFixed(0)} ms over ${RUNS} runs (target < ${TARGET_MS} ms)`);
    console.log(`one hand-written query      median ${baselineMedian.toFixed(0)} ms (the headline figures only)`);
    console.log(`ratio API / baseline        ${(apiMedian / baselineMedian).toFixed(2)}`);
    console.log(
      `figures: ${k.stockouts.events} stockouts at ${k.stockouts.skuLocations} SKU-locations, shrinkage ${k.shrinkage.units} units, accuracy ${k.stockAccuracy.numerator}/${k.stockAccuracy.denominator}, ` +
        `backlog ${k.exceptionBacklog.total}, revenue at risk ${k.revenueAtRisk.units} units (${k.revenueAtRisk.value?.toFixed(2)} EUR), ` +
        `turns ${k.inventoryTurnover.unitTurns?.toFixed(2)} in units and ${k.inventoryTurnover.valueTurns?.toFixed(2)} at cost — ${same ? 'equal to the baseline' : `NOT equal to the baseline ${JSON.stringify(b)}`}`,
    );
    const held = same && apiMedian < TARGET_MS;
    if (apiMedian >= TARGET_MS) console.log(`FAILED: median ${apiMedian.toFixed(0)} ms is not under ${TARGET_MS} ms`);
    return held;
  } finally {
    await api.close();
    await database.close();
  }
}
