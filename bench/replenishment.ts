import { connect, type Database } from '../db/connection';
import { runReplenishment } from '../db/replenishment';
import { DEFAULT_CONFIG } from '../schemas/config';
import { fmt, median, seedBenchCatalogue } from './common';

const VARIANTS = 10_000;
const LOCATIONS = 2;
const MOVEMENTS = 1_000_000;
const DAYS = 90;
const SUPPLIERS = 8;
const RUNS = 5;
const WINDOW = DEFAULT_CONFIG.STOCKFLOW_REPLENISHMENT_WINDOW_DAYS;
/** The issue's target: the run takes at most twice the time of one hand-written query (baseline / run ≥ 0.5). */
const TARGET_RATIO = 0.5;

/**
 * 90 days of sales, issues and receipts written straight in SQL over 20,000 SKU-locations, each
 * with a reorder policy (one in five static) and a supplier with lead time, pack size and MOQ.
 */
async function generate(database: Database): Promise<void> {
  const sql = database.sql;
  await seedBenchCatalogue(sql, VARIANTS, LOCATIONS);
  await sql`
    INSERT INTO suppliers (id, name, location_id, lead_time_days, moq, pack_size, currency)
    SELECT 's' || n, 'Supplier ' || n, 1, 3 + n * 2, CASE WHEN n % 2 = 0 THEN 24 END, (ARRAY[1, 6, 12, 24])[1 + n % 4], 'EUR' FROM generate_series(1, ${SUPPLIERS}) n`;
  await sql`
    INSERT INTO supplier_variants (supplier_id, variant_id, cost, currency)
    SELECT 's' || (1 + v.id % ${SUPPLIERS}), v.id, 0.5 + (v.id % 40) * 0.25, 'EUR' FROM variants v`;
  await sql`
    INSERT INTO stock_balances (variant_id, location_id, allow_negative, on_hand, incoming)
    SELECT v.id, l.id, true, (v.id * 7 + l.id * 13) % 150, CASE WHEN v.id % 5 = 0 THEN 10 ELSE 0 END FROM variants v CROSS JOIN locations l`;
  await sql`
    INSERT INTO reorder_policies (variant_id, location_id, supplier_id, kind, reorder_point, order_quantity, safety_days, target_days, window_days, updated_by)
    SELECT v.id, l.id, 's' || (1 + v.id % ${SUPPLIERS}),
           CASE WHEN v.id % 5 = 1 THEN 'static' ELSE 'dynamic' END,
           CASE WHEN v.id % 5 = 1 THEN 40 END, CASE WHEN v.id % 5 = 1 THEN 50 END,
           CASE WHEN v.id % 5 = 1 THEN NULL ELSE 3 + v.id % 5 END, CASE WHEN v.id % 5 = 1 THEN NULL ELSE 30 END,
           CASE WHEN v.id % 7 = 0 THEN 14 END, 'bench'
    FROM variants v CROSS JOIN locations l`;
  await sql`
    INSERT INTO stock_operations (idempotency_key, kind, request_hash, actor, created_at)
    SELECT 'bench/' || n, (ARRAY['ship', 'issue', 'receive', 'ship'])[1 + n % 4], 'h', 'bench', now() - ((${DAYS} * 86400 - 3600) * (1 - n::float8 / ${MOVEMENTS})) * interval '1 second'
    FROM generate_series(1, ${MOVEMENTS}) n`;
  await sql`
    INSERT INTO stock_movements (operation_id, idempotency_key, variant_id, location_id, kind, delta_on_hand, actor, created_at)
    SELECT o.id, o.idempotency_key, 1 + (o.id % ${VARIANTS}), 1 + ((o.id / ${VARIANTS}) % ${LOCATIONS}), o.kind,
           CASE WHEN o.kind = 'receive' THEN 5 + (o.id % 20)::int ELSE -1 - (o.id % 3)::int END, 'bench', o.created_at
    FROM stock_operations o`;
  await sql`ANALYZE`;
}

/** The baseline: the same rules as one hand-written statement, answering how many lines and units a run orders. */
async function handWritten(database: Database, at: Date): Promise<{ lines: number; units: number }> {
  const [row] = await database.sql`
    WITH pos AS (
      SELECT p.kind, p.reorder_point, p.order_quantity, p.safety_days, p.target_days,
             coalesce(b.available, 0) + coalesce(b.incoming, 0) AS position,
             coalesce(s.lead_time_days, 0) AS lead, coalesce(s.pack_size, 1) AS pack, coalesce(s.moq, 0) AS moq,
             greatest(coalesce((
               SELECT -sum(m.delta_on_hand) FROM stock_movements m
               WHERE m.variant_id = p.variant_id AND m.location_id = p.location_id AND m.kind IN ('issue', 'ship')
                 AND m.created_at > ${at.toISOString()}::timestamptz - make_interval(days => coalesce(p.window_days, ${WINDOW}::int))
                 AND m.created_at <= ${at.toISOString()}::timestamptz), 0), 0)::float8 / coalesce(p.window_days, ${WINDOW}::int) AS v
      FROM reorder_policies p
      JOIN variants va ON va.id = p.variant_id AND va.archived_at IS NULL
      JOIN suppliers s ON s.id = p.supplier_id AND s.archived_at IS NULL
      LEFT JOIN stock_balances b ON b.variant_id = p.variant_id AND b.location_id = p.location_id
    ), lines AS (
      SELECT pack, moq,
             CASE WHEN kind = 'static' THEN position <= reorder_point ELSE position <= v * (lead + safety_days) END AS low,
             CASE WHEN kind = 'static' THEN order_quantity::float8 ELSE v * target_days - position END AS need
      FROM pos
    )
    SELECT count(*)::int AS lines, coalesce(sum(ceil(greatest(ceil(need), moq) / pack) * pack), 0)::int AS units
    FROM lines WHERE low AND need > 0`;
  return row as never;
}

export async function benchReplenishment(databaseUrl: string): Promise<boolean> {
  const database = connect(databaseUrl, { max: 4 });
  try {
    const started = Date.now();
    await generate(database);
    const [size] = await database.sql`SELECT (SELECT count(*) FROM stock_movements)::int AS movements, (SELECT count(*) FROM reorder_policies)::int AS policies`;
    console.log(`data set: ${fmt(size.movements)} movements over ${DAYS} days, ${fmt(size.policies)} SKU-locations with a policy (generated in ${((Date.now() - started) / 1000).toFixed(0)} s)`);

    const runTimes: number[] = [];
    const baselineTimes: number[] = [];
    let ours = { suggestions: 0, lines: 0, units: 0 };
    let baseline = { lines: 0, units: 0 };
    for (let run = 0; run <= RUNS; run++) {
      // Each measured run is a fresh day's run: the previous one's stored suggestions are cleared
      // (with the purchase order tables that refer to them, empty here: nothing is approved).
      await database.sql`TRUNCATE purchase_suggestion_lines, purchase_suggestions, replenishment_runs, purchase_order_receipts, purchase_order_lines, purchase_orders`;
      const at = new Date();
      let t = performance.now();
      const outcome = await runReplenishment(database.db, at, WINDOW);
      const runMs = performance.now() - t;
      ours = { suggestions: outcome.suggestions.length, lines: outcome.suggestions.reduce((n, s) => n + s.lines.length, 0), units: outcome.suggestions.reduce((n, s) => n + s.lines.reduce((u, l) => u + l.quantity, 0), 0) };
      t = performance.now();
      baseline = await handWritten(database, at);
      const baselineMs = performance.now() - t;
      // The first run warms the caches and plans; it is not measured.
      if (run > 0) {
        runTimes.push(runMs);
        baselineTimes.push(baselineMs);
      }
    }
    const runMedian = median(runTimes);
    const baselineMedian = median(baselineTimes);
    const ratio = baselineMedian / runMedian;
    const same = ours.lines === baseline.lines && ours.units === baseline.units;
    console.log(`replenishment run (read, rules, store)  median ${runMedian.toFixed(0)} ms over ${RUNS} runs`);
    console.log(`one hand-written query (read, rules)    median ${baselineMedian.toFixed(0)} ms`);
    console.log(`ratio baseline / run                    ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO})`);
    console.log(
      `figures: ${fmt(ours.suggestions)} suggestions, ${fmt(ours.lines)} lines, ${fmt(ours.units)} units — ${same ? 'equal to the baseline' : `NOT equal to the baseline ${JSON.stringify(baseline)}`}`,
    );
    if (ratio < TARGET_RATIO) console.log(`FAILED: ratio ${ratio.toFixed(2)} is under ${TARGET_RATIO}`);
    return same && ratio >= TARGET_RATIO;
  } finally {
    await database.close();
  }
}
