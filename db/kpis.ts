import { sql, type SQL } from 'drizzle-orm';
import type { DigestFigures } from '../domain/alerts';
import { splitWindow, type PriceBook } from '../domain/kpis';
import type { Db } from './connection';

/**
 * Every KPI's figures, read in one pass of independent queries (docs/kpis.md defines each). The
 * queries return raw counts, sums and percentiles; domain/kpis.ts turns them into shares, series
 * and values. Windowed figures cover [from, to); backlog and revenue at risk are as of now.
 */
export interface KpiScope {
  from: Date;
  to: Date;
  location?: string;
  owner?: string;
}

export interface PercentileRow {
  count: number;
  p50: number | null;
  p95: number | null;
}

export interface KpiRows {
  latency: (PercentileRow & { flow: string })[];
  failed: { source: string; received: number; refused: number; rejected: number; held: number }[];
  backlog: { owner: string; type: string; open: number; acknowledged: number; under1h: number; under1d: number; under7d: number; over7d: number; oldestSeconds: number }[];
  oldest: { owner: string; type: string; subject: string; workflowId: string; openedAt: string; status: string }[];
  breaches: { owner: string; breaches: number }[];
  acknowledge: PercentileRow;
  resolve: PercentileRow;
  runs: { runId: number; ranAt: string; checked: number; matched: number; deltas: number; byKind: Record<string, number> | null }[];
  accuracy: { counted: number; withinTolerance: number; byClass: Record<'A' | 'B' | 'C', { counted: number; withinTolerance: number }> };
  shrinkage: { reasonCode: string; sku: string; units: number }[];
  stockouts: { events: number; skuLocations: number; daysOutOfStock: number; byDay: Record<string, number> };
  turnover: { unitsIssued: number; openingUnits: number; closingUnits: number; issuedCost: number | null; openingValue: number | null; closingValue: number | null };
  orders: { orders: number; needingPerson: number };
  risk: { part: 'feedHeld' | 'countBlocked' | 'ordersInExceptions'; sku: string; units: number; things: number }[];
  channels: { channel: string; owner: string; lagSeconds: number | null; pendingSkus: number; staleSkus: number; staleAfterSeconds: number }[];
  daily: { day: string; metric: string; key: string; value: number }[];
}

const UNRESOLVED = sql`('open', 'acknowledged')`;

export async function readKpiRows(db: Db, scope: KpiScope): Promise<KpiRows> {
  const rows = <T>(query: SQL) => db.execute<T & Record<string, unknown>>(query).then((r) => [...r] as T[]);
  const one = async <T>(query: SQL) => (await rows<T>(query))[0];
  const [latency, failed, backlog, oldest, breaches, acknowledge, resolve, runs, accuracy, shrinkage, stockouts, turnover, orders, risk, daily, channels] =
    await Promise.all([
      rows<KpiRows['latency'][number]>(latencyQuery(scope)),
      rows<KpiRows['failed'][number]>(failedQuery(scope)),
      rows<KpiRows['backlog'][number]>(backlogQuery(scope)),
      rows<KpiRows['oldest'][number]>(oldestQuery(scope)),
      rows<KpiRows['breaches'][number]>(breachQuery(scope)),
      one<PercentileRow>(exceptionDurationQuery(scope, sql`acknowledged_at`)),
      one<PercentileRow>(exceptionDurationQuery(scope, sql`resolved_at`)),
      rows<KpiRows['runs'][number]>(runsQuery(scope)),
      one<KpiRows['accuracy']>(accuracyQuery(scope)),
      rows<KpiRows['shrinkage'][number]>(shrinkageQuery(scope)),
      one<KpiRows['stockouts']>(stockoutQuery(scope)),
      readTurnover(db, scope),
      one<KpiRows['orders']>(ordersQuery(scope)),
      rows<KpiRows['risk'][number]>(riskQuery(scope)),
      rows<KpiRows['daily'][number]>(dailyQuery(scope)),
      rows<KpiRows['channels'][number]>(channelsQuery(scope)),
    ]);
  return { latency, failed, backlog, oldest, breaches, acknowledge, resolve, runs, accuracy, shrinkage, stockouts, turnover, orders, risk, daily, channels };
}

const inWindow = (column: SQL, s: KpiScope) => sql`${column} >= ${s.from.toISOString()}::timestamptz AND ${column} < ${s.to.toISOString()}::timestamptz`;
const atLocation = (codeColumn: SQL, s: KpiScope) => (s.location === undefined ? sql`true` : sql`${codeColumn} = ${s.location}`);
const locationId = (idColumn: SQL, s: KpiScope) =>
  s.location === undefined ? sql`true` : sql`${idColumn} = (SELECT id FROM locations WHERE code = ${s.location})`;
const ownedBy = (s: KpiScope, e = sql`e`) => (s.owner === undefined ? sql`true` : sql`(${e}.assignee_id = ${s.owner} OR ${e}.owner_id = ${s.owner})`);
const percentiles = (value: SQL) => sql`count(*)::int AS count,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ${value})::float8 AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY ${value})::float8 AS p95`;

/** Received → applied: each applied feed line since its feed arrived; each order event until its workflow had it. */
function latencyQuery(s: KpiScope): SQL {
  return sql`
    SELECT flow, ${percentiles(sql`ms`)} FROM (
      SELECT 'supplier_feed' AS flow, extract(epoch FROM l.at - f.received_at) * 1000 AS ms
      FROM feed_lines l JOIN supplier_feeds f ON f.id = l.feed_pk JOIN suppliers sp ON sp.id = f.supplier_id
      WHERE l.outcome = 'applied' AND ${inWindow(sql`l.at`, s)} AND ${locationId(sql`sp.location_id`, s)}
      UNION ALL
      SELECT 'order_event', extract(epoch FROM ev.delivered_at - ev.received_at) * 1000
      FROM order_events ev
      WHERE ev.delivered_at IS NOT NULL AND ${inWindow(sql`ev.received_at`, s)}
        AND (${s.location === undefined} OR EXISTS (SELECT 1 FROM orders o WHERE o.channel = ev.channel AND o.order_id = ev.order_id AND ${atLocation(sql`o.location`, s)}))
    ) x GROUP BY flow ORDER BY flow`;
}

/** Per supplier: lines received, rejected (bad or unmapped), held (spike, negative, quarantined). Per channel: orders. */
function failedQuery(s: KpiScope): SQL {
  return sql`
    SELECT 'supplier:' || f.supplier_id AS source, count(*)::int AS received, 0 AS refused,
           count(*) FILTER (WHERE l.outcome IN ('rejected', 'unmapped'))::int AS rejected,
           count(*) FILTER (WHERE l.outcome IN ('held', 'quarantined'))::int AS held
    FROM feed_lines l JOIN supplier_feeds f ON f.id = l.feed_pk JOIN suppliers sp ON sp.id = f.supplier_id
    WHERE ${inWindow(sql`l.at`, s)} AND ${locationId(sql`sp.location_id`, s)}
    GROUP BY f.supplier_id
    UNION ALL
    SELECT 'channel:' || o.channel, count(*)::int,
           count(*) FILTER (WHERE o.state = 'rejected')::int,
           count(*) FILTER (WHERE o.state = 'failed')::int,
           count(*) FILTER (WHERE o.order_id IN (SELECT e.order_id FROM exceptions e WHERE e.order_id IS NOT NULL))::int
    FROM orders o
    WHERE ${inWindow(sql`o.created_at`, s)} AND ${atLocation(sql`o.location`, s)}
      AND ${s.owner === undefined ? sql`true` : sql`o.state_owner_id = ${s.owner}`}
    GROUP BY o.channel
    ORDER BY source`;
}

function backlogQuery(s: KpiScope): SQL {
  const age = sql`now() - e.opened_at`;
  return sql`
    SELECT e.assignee_id AS owner, e.type,
           count(*) FILTER (WHERE e.status = 'open')::int AS open,
           count(*) FILTER (WHERE e.status = 'acknowledged')::int AS acknowledged,
           count(*) FILTER (WHERE ${age} < interval '1 hour')::int AS "under1h",
           count(*) FILTER (WHERE ${age} >= interval '1 hour' AND ${age} < interval '1 day')::int AS "under1d",
           count(*) FILTER (WHERE ${age} >= interval '1 day' AND ${age} < interval '7 days')::int AS "under7d",
           count(*) FILTER (WHERE ${age} >= interval '7 days')::int AS "over7d",
           floor(extract(epoch FROM max(${age})))::int AS "oldestSeconds"
    FROM exceptions e
    WHERE e.status IN ${UNRESOLVED} AND ${ownedBy(s)} AND ${atLocation(sql`e.location`, s)}
    GROUP BY e.assignee_id, e.type ORDER BY e.assignee_id, e.type`;
}

/** Oldest first, a page's worth: what the dashboard links into the Temporal UI. */
function oldestQuery(s: KpiScope): SQL {
  return sql`
    SELECT e.assignee_id AS owner, e.type, e.subject, e.workflow_id AS "workflowId", to_json(e.opened_at)#>>'{}' AS "openedAt", e.status
    FROM exceptions e
    WHERE e.status IN ${UNRESOLVED} AND ${ownedBy(s)} AND ${atLocation(sql`e.location`, s)}
    ORDER BY e.opened_at, e.id LIMIT 50`;
}

/** Every escalation by the SLA clock is one missed acknowledgement or resolution SLA. */
function breachQuery(s: KpiScope): SQL {
  return sql`
    SELECT e.owner_id AS owner, count(*)::int AS breaches
    FROM exception_events ev JOIN exceptions e ON e.id = ev.exception_id
    WHERE ev.action = 'escalate' AND ${inWindow(sql`ev.at`, s)} AND ${ownedBy(s)} AND ${atLocation(sql`e.location`, s)}
    GROUP BY e.owner_id ORDER BY e.owner_id`;
}

function exceptionDurationQuery(s: KpiScope, until: SQL): SQL {
  return sql`
    SELECT ${percentiles(sql`extract(epoch FROM e.${until} - e.opened_at)`)}
    FROM exceptions e
    WHERE ${inWindow(sql`e.${until}`, s)} AND ${ownedBy(s)} AND ${atLocation(sql`e.location`, s)}`;
}

function runsQuery(s: KpiScope): SQL {
  return sql`
    SELECT r.id::int AS "runId", to_json(r.ran_at)#>>'{}' AS "ranAt", r.checked, r.matched, jsonb_array_length(r.deltas)::int AS deltas,
           (SELECT jsonb_object_agg(kind, n) FROM (
              SELECT d->>'kind' AS kind, count(*)::int AS n FROM jsonb_array_elements(r.deltas) d GROUP BY 1) k) AS "byKind"
    FROM reconciliation_runs r
    WHERE ${inWindow(sql`r.ran_at`, s)}
    ORDER BY r.ran_at, r.id`;
}

/**
 * The latest count of each SKU-location counted in the window; within tolerance is what grading
 * calls `ok`. Per ABC class too, by the SKU's current class (C until classes are computed).
 */
function accuracyQuery(s: KpiScope): SQL {
  const byClass = (c: 'A' | 'B' | 'C') =>
    sql`jsonb_build_object('counted', count(*) FILTER (WHERE abc = ${c}), 'withinTolerance', count(*) FILTER (WHERE abc = ${c} AND outcome = 'ok'))`;
  return sql`
    SELECT count(*)::int AS counted, count(*) FILTER (WHERE outcome = 'ok')::int AS "withinTolerance",
           jsonb_build_object('A', ${byClass('A')}, 'B', ${byClass('B')}, 'C', ${byClass('C')}) AS "byClass"
    FROM (SELECT DISTINCT ON (c.variant_id, c.location_id) c.outcome, coalesce(a.abc_class, 'C') AS abc
          FROM cycle_counts c LEFT JOIN abc_classes a ON a.variant_id = c.variant_id
          WHERE ${inWindow(sql`c.created_at`, s)} AND ${locationId(sql`c.location_id`, s)}
          ORDER BY c.variant_id, c.location_id, c.id DESC) latest`;
}

function shrinkageQuery(s: KpiScope): SQL {
  return sql`
    SELECT a.reason_code AS "reasonCode", v.sku, (-sum(a.delta))::float8 AS units
    FROM adjustments a JOIN variants v ON v.id = a.variant_id
    WHERE a.delta < 0 AND ${inWindow(sql`a.created_at`, s)} AND ${locationId(sql`a.location_id`, s)}
    GROUP BY a.reason_code, v.sku`;
}

/**
 * From the stockout periods the database keeps with every balance change (migration 0017): a
 * stockout event is a period that started in the window from stock above 0; days out of stock add
 * up each period's overlap with the window, so a SKU-location out of stock all window long counts
 * whole even with no movement in it. A SKU-location at 0 that never moved has no period: it was
 * not out of stock, it did not exist yet.
 */
function stockoutQuery(s: KpiScope): SQL {
  const to = sql`${s.to.toISOString()}::timestamptz`;
  const from = sql`${s.from.toISOString()}::timestamptz`;
  return sql`
    WITH overlapping AS (
      SELECT variant_id, location_id, started_at, from_stock, greatest(started_at, ${from}) AS out_from, least(coalesce(ended_at, ${to}), ${to}) AS out_until
      FROM stockout_periods
      WHERE started_at < ${to} AND (ended_at IS NULL OR ended_at > ${from}) AND ${locationId(sql`location_id`, s)}
    )
    SELECT
      (SELECT count(*) FROM overlapping WHERE from_stock AND started_at >= ${from})::int AS events,
      (SELECT count(*) FROM (SELECT DISTINCT variant_id, location_id FROM overlapping) x)::int AS "skuLocations",
      (SELECT coalesce(sum(extract(epoch FROM out_until - out_from)), 0) FROM overlapping)::float8 / 86400 AS "daysOutOfStock",
      (SELECT coalesce(jsonb_object_agg(day, n), '{}'::jsonb) FROM (
         SELECT to_char((started_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, count(*)::int AS n
         FROM overlapping WHERE from_stock AND started_at >= ${from} GROUP BY (started_at AT TIME ZONE 'UTC')::date) d) AS "byDay"`;
}

/**
 * On hand moved in the window, in units and valued at the unit cost in force when each movement
 * happened (`price_intervals`, migration 0022): the whole days the daily rollup holds (migrations 0018, 0022), and the rest, at most
 * two days and the window's ragged start, from the ledger. Closing stock is valued at the cost in
 * force at the window's end; the values are null while the catalogue holds no cost.
 */
async function readTurnover(db: Db, s: KpiScope): Promise<KpiRows['turnover']> {
  const [rolled] = await db.execute<{ through: string | null }>(sql`SELECT through::text AS through FROM rollups WHERE name = 'movement_days'`);
  const split = splitWindow(s.from, s.to, rolled?.through ?? null);
  const to = sql`${s.to.toISOString()}::timestamptz`;
  const parts: SQL[] = split.live.map(
    (range) => sql`
      SELECT coalesce(sum(delta_on_hand), 0) AS net, coalesce(-sum(delta_on_hand) FILTER (WHERE issue), 0) AS issued,
             coalesce(sum(delta_on_hand * cost), 0) AS net_cost, coalesce(-sum(delta_on_hand * cost) FILTER (WHERE issue), 0) AS issued_cost
      FROM (
        SELECT m.delta_on_hand, m.kind IN ('issue', 'ship') AS issue, c.cost
        FROM stock_movements m
        LEFT JOIN price_intervals c ON c.variant_id = m.variant_id AND m.created_at >= c.valid_from AND (c.valid_until IS NULL OR m.created_at < c.valid_until)
        WHERE m.delta_on_hand <> 0 AND m.created_at >= ${range.from.toISOString()}::timestamptz AND m.created_at < ${range.to.toISOString()}::timestamptz
          AND ${locationId(sql`m.location_id`, s)}
      ) moved`,
  );
  if (split.days) {
    parts.push(sql`
      SELECT coalesce(sum(net_on_hand), 0), coalesce(sum(issued), 0), coalesce(sum(net_cost), 0), coalesce(sum(issued_cost), 0)
      FROM movement_days WHERE day >= ${split.days.first}::date AND day < ${split.days.end}::date AND ${locationId(sql`location_id`, s)}`);
  }
  const [row] = await db.execute<KpiRows['turnover']>(sql`
    WITH moved AS (SELECT sum(net) AS net, sum(issued) AS issued, sum(net_cost) AS net_cost, sum(issued_cost) AS issued_cost FROM (${sql.join(parts, sql` UNION ALL `)}) p),
    closing AS (
      SELECT coalesce(sum(b.on_hand), 0) AS units, coalesce(sum(b.on_hand * c.cost), 0) AS value
      FROM stock_balances b
      LEFT JOIN price_intervals c ON c.variant_id = b.variant_id AND ${to} >= c.valid_from AND (c.valid_until IS NULL OR ${to} < c.valid_until)
      WHERE b.on_hand <> 0 AND ${locationId(sql`b.location_id`, s)}
    ),
    costed AS (SELECT EXISTS (SELECT FROM variant_prices WHERE cost IS NOT NULL AND valid_from <= ${to}) AS any)
    SELECT moved.issued::float8 AS "unitsIssued", (closing.units - moved.net)::float8 AS "openingUnits", closing.units::float8 AS "closingUnits",
           CASE WHEN costed.any THEN moved.issued_cost::float8 END AS "issuedCost",
           CASE WHEN costed.any THEN (closing.value - moved.net_cost)::float8 END AS "openingValue",
           CASE WHEN costed.any THEN closing.value::float8 END AS "closingValue"
    FROM moved, closing, costed`);
  return row;
}

/** Rolls up the settled days of the ledger not rolled up yet (see migration 0022); returns the last day rolled up. */
export async function rollUpMovementDays(db: Db): Promise<string | null> {
  const [row] = await db.execute<{ through: string | null }>(sql`SELECT roll_up_movement_days()::text AS through`);
  return row.through;
}

/** An order needs a person when any exception was ever raised about it (IN, not EXISTS: one hashed look-up, not a scan per order). */
function ordersQuery(s: KpiScope): SQL {
  return sql`
    SELECT count(*)::int AS orders,
           count(*) FILTER (WHERE o.order_id IN (SELECT e.order_id FROM exceptions e WHERE e.order_id IS NOT NULL))::int AS "needingPerson"
    FROM orders o
    WHERE ${inWindow(sql`o.created_at`, s)} AND ${atLocation(sql`o.location`, s)}
      AND ${s.owner === undefined ? sql`true` : sql`o.state_owner_id = ${s.owner}`}`;
}

/** Units that cannot sell right now, by SKU: see docs/kpis.md "Revenue at risk". */
function riskQuery(s: KpiScope): SQL {
  return sql`
    SELECT 'feedHeld' AS part, e.sku, sum((e.held_change->>'quantity')::bigint)::float8 AS units, count(*)::int AS things
    FROM exceptions e
    WHERE e.status IN ${UNRESOLVED} AND e.type = 'supplier_feed_line' AND e.sku IS NOT NULL AND ${ownedBy(s)} AND ${atLocation(sql`e.location`, s)}
    GROUP BY e.sku
    UNION ALL
    SELECT 'feedHeld', v.sku, sum(l.quantity)::float8, count(*)::int
    FROM exceptions e
    JOIN supplier_feeds f ON f.supplier_id = e.supplier_id AND e.subject = f.supplier_id || '/' || f.feed_id
    JOIN feed_lines l ON l.feed_pk = f.id AND l.outcome = 'quarantined'
    JOIN variants v ON v.id = l.variant_id
    WHERE e.status IN ${UNRESOLVED} AND e.type = 'supplier_feed_quarantine' AND ${ownedBy(s)} AND ${atLocation(sql`e.location`, s)}
    GROUP BY v.sku
    UNION ALL
    SELECT 'countBlocked', v.sku, sum(greatest(b.on_hand, 0))::float8, count(*)::int
    FROM stock_balances b JOIN variants v ON v.id = b.variant_id
    WHERE b.count_status = 'blocked' AND ${locationId(sql`b.location_id`, s)} AND ${s.owner === undefined}
    GROUP BY v.sku
    UNION ALL
    -- Each order counts once, on its first line's row, so the rows add up to the number of orders.
    SELECT 'ordersInExceptions', line->>'sku', sum((line->>'quantity')::bigint)::float8, count(*) FILTER (WHERE n = 1)::int
    FROM orders o CROSS JOIN LATERAL jsonb_array_elements(coalesce(o.lines, '[]'::jsonb)) WITH ORDINALITY AS l(line, n)
    WHERE EXISTS (SELECT 1 FROM exceptions e WHERE e.order_id = o.order_id AND e.status IN ${UNRESOLVED} AND ${ownedBy(s)})
      AND ${atLocation(sql`o.location`, s)}
    GROUP BY line->>'sku'`;
}

/** Each channel the scope covers (its owner; fed by its location), with its pending and stale SKUs as of now. */
function channelsQuery(s: KpiScope): SQL {
  return sql`
    SELECT ch.id AS channel, ch.owner_id AS owner, ch.staleness_seconds AS "staleAfterSeconds",
           greatest(extract(epoch FROM now() - min(p.first_changed_at)), 0)::float8 AS "lagSeconds",
           count(p.variant_id)::int AS "pendingSkus",
           count(p.variant_id) FILTER (WHERE p.first_changed_at < now() - make_interval(secs => ch.staleness_seconds))::int AS "staleSkus"
    FROM channels ch LEFT JOIN channel_pending p ON p.channel_id = ch.id
    WHERE ${s.owner === undefined ? sql`true` : sql`ch.owner_id = ${s.owner}`}
      AND ${s.location === undefined ? sql`true` : sql`ch.id IN (SELECT cl.channel_id FROM channel_locations cl JOIN locations l ON l.id = cl.location_id WHERE l.code = ${s.location})`}
    GROUP BY ch.id ORDER BY ch.id`;
}

/** Day-by-day figures for the trend charts: (day, metric, key, value), days in UTC. */
function dailyQuery(s: KpiScope): SQL {
  // Grouped by date, formatted once per day and metric: to_char over every row cost a third of the query.
  const day = (column: SQL) => sql`(${column} AT TIME ZONE 'UTC')::date`;
  return sql`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, metric, key, value FROM (
    SELECT ${day(sql`e.opened_at`)} AS day, 'exceptionsOpened' AS metric, '' AS key, count(*)::float8 AS value
    FROM exceptions e WHERE ${inWindow(sql`e.opened_at`, s)} AND ${ownedBy(s)} AND ${atLocation(sql`e.location`, s)} GROUP BY 1
    UNION ALL
    SELECT ${day(sql`e.resolved_at`)}, 'exceptionsResolved', '', count(*)
    FROM exceptions e WHERE ${inWindow(sql`e.resolved_at`, s)} AND ${ownedBy(s)} AND ${atLocation(sql`e.location`, s)} GROUP BY 1
    UNION ALL
    SELECT ${day(sql`a.created_at`)}, 'adjustment', a.reason_code, sum(a.delta)
    FROM adjustments a WHERE ${inWindow(sql`a.created_at`, s)} AND ${locationId(sql`a.location_id`, s)} GROUP BY 1, 3
    UNION ALL
    SELECT ${day(sql`l.at`)}, 'feedLine', CASE WHEN l.outcome IN ('rejected', 'unmapped', 'held', 'quarantined') THEN 'failed' ELSE 'ok' END, count(*)
    FROM feed_lines l JOIN supplier_feeds f ON f.id = l.feed_pk JOIN suppliers sp ON sp.id = f.supplier_id
    WHERE ${inWindow(sql`l.at`, s)} AND ${locationId(sql`sp.location_id`, s)} GROUP BY 1, 3
    UNION ALL
    SELECT ${day(sql`created_at`)}, 'count', outcome, count(*)
    FROM cycle_counts WHERE ${inWindow(sql`created_at`, s)} AND ${locationId(sql`location_id`, s)} GROUP BY 1, 3
    ) daily`;
}

/** Per owner with anything to tell (open, breached or changed since `since`): the figures of their daily digest. */
export async function ownerDigestFigures(db: Db, since: Date): Promise<(DigestFigures & { ownerId: string; contact: string })[]> {
  const at = sql`${since.toISOString()}::timestamptz`;
  const rows = await db.execute<DigestFigures & { ownerId: string; contact: string } & Record<string, unknown>>(sql`
    SELECT o.id AS "ownerId", o.name AS "ownerName", o.contact,
      (SELECT count(*) FROM exceptions e WHERE e.assignee_id = o.id AND e.status = 'open')::int AS open,
      (SELECT count(*) FROM exceptions e WHERE e.assignee_id = o.id AND e.status = 'acknowledged')::int AS acknowledged,
      (SELECT count(*) FROM exception_events ev JOIN exceptions e ON e.id = ev.exception_id
        WHERE e.owner_id = o.id AND ev.action = 'escalate' AND ev.at >= ${at})::int AS breached,
      (SELECT count(*) FROM exceptions e WHERE e.owner_id = o.id AND e.opened_at >= ${at})::int AS "openedToday",
      (SELECT count(*) FROM exceptions e WHERE e.owner_id = o.id AND e.resolved_at >= ${at})::int AS "resolvedToday",
      coalesce((SELECT jsonb_agg(jsonb_build_object('type', x.type, 'subject', x.subject, 'openedAt', to_json(x.opened_at)#>>'{}') ORDER BY x.opened_at)
        FROM (SELECT type, subject, opened_at FROM exceptions e WHERE e.assignee_id = o.id AND e.status IN ('open', 'acknowledged') ORDER BY opened_at LIMIT 5) x), '[]'::jsonb) AS oldest
    FROM owners o ORDER BY o.id`);
  return [...rows].filter((r) => r.open + r.acknowledged + r.breached + r.openedToday + r.resolvedToday > 0);
}

/**
 * Unit price and unit cost of every SKU as they stood at `at` (price history: a later change does
 * not revalue the past). A book is undefined while the catalogue holds no figure of its kind.
 */
export async function priceBooks(db: Db, at: Date): Promise<{ prices?: PriceBook; costs?: PriceBook }> {
  const rows = [
    ...(await db.execute<{ sku: string; price: string | null; cost: string | null }>(sql`
      SELECT DISTINCT ON (p.variant_id) v.sku, p.price, p.cost
      FROM variant_prices p JOIN variants v ON v.id = p.variant_id
      WHERE p.valid_from <= ${at.toISOString()}::timestamptz
      ORDER BY p.variant_id, p.valid_from DESC, p.id DESC`)),
  ];
  const book = (pick: (r: (typeof rows)[number]) => string | null) => {
    const entries = rows.flatMap((r) => (pick(r) === null ? [] : [[r.sku, Number(pick(r))] as const]));
    return entries.length > 0 ? new Map(entries) : undefined;
  };
  return { prices: book((r) => r.price), costs: book((r) => r.cost) };
}
