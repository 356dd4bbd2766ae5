import type postgres from 'postgres';
import { createActivities } from '../activities';
import { addToCatalogue } from '../db/catalogue';
import { connect, type Database } from '../db/connection';
import { reserveStatement } from '../db/ledger';
import { keyed } from '../db/ledger-requests';
import { applyStockOperation } from '../db/stock';
import { fmt, median } from './common';

const CLIENTS = 64;
const POOL_SIZE = 20;
// Sized so each run lasts several seconds on 2 cores (both paths manage ~1,000 reservations/s on the
// hot SKU there), long enough for the figures to settle, and the whole benchmark about two minutes.
// The stock per scenario (20,000 units) must cover a run.
const ATTEMPTS_PER_RUN = 6_000;
const WARM_UP_ATTEMPTS = 1_000;
const MEASURED_RUNS = 5;
const TARGET_RATIO = 0.7;
const LOCATION = 'BENCH';
const ACTOR = 'bench';
const TTL_SECONDS = 3600;

interface Scenario {
  name: string;
  skuPrefix: string;
  skuCount: number;
  unitsPerSku: number;
}

// Attempts go round-robin over the SKUs, so every SKU has stock to spare and no attempt is refused:
// the runs measure the reservation path, not the refusal path.
const SCENARIOS: Scenario[] = [
  { name: 'hot SKU', skuPrefix: 'HOT', skuCount: 1, unitsPerSku: 20_000 },
  { name: 'many SKUs', skuPrefix: 'MANY', skuCount: 200, unitsPerSku: 100 },
];

interface ReservationPath {
  name: string;
  reserve(idempotencyKey: string, sku: string): Promise<unknown>;
}

interface Checks {
  oversold: number;
  negative: number;
  drifted: number;
  /** How many of the run's two tallies (reservation rows, reserved units) differ from its attempts. */
  miscounted: number;
}

interface PathFigures {
  path: string;
  medianRate: number;
}

interface ScenarioFigures {
  label: string;
  paths: PathFigures[];
  violations: Checks;
}

/** Reservation throughput of the activity against the same statement in raw SQL. True if no check failed. */
export async function benchReservations(databaseUrl: string): Promise<boolean> {
  // One pool per path, same size and same driver settings (connect() installs Drizzle's type
  // parsers), so the paths differ only in the code between the caller and the SQL. Seeding and
  // checks use a third pool so they never warm or occupy a measured one.
  const activityPool = connect(databaseUrl, { max: POOL_SIZE });
  const sqlPool = connect(databaseUrl, { max: POOL_SIZE });
  const control = connect(databaseUrl, { max: 4 });
  try {
    await addToCatalogue(control.db, { locations: [{ code: LOCATION, name: 'Benchmark' }], items: [] });
    // [under test, baseline]: the summary's ratio is the first path's rate over the second's.
    const paths = [activityPath(activityPool), rawSqlPath(sqlPool.sql)];
    console.log(
      `${CLIENTS} clients, pool ${POOL_SIZE} per path, ${fmt(ATTEMPTS_PER_RUN)} reservations per run, ` +
        `${MEASURED_RUNS} runs per path after a ${fmt(WARM_UP_ATTEMPTS)}-reservation warm-up, paths alternating`,
    );
    const figures: ScenarioFigures[] = [];
    for (const scenario of SCENARIOS) figures.push(await runScenario(scenario, paths, control));
    printSummary(figures);
    return figures.every((f) => totalOf(f.violations) === 0);
  } finally {
    await Promise.all([activityPool.close(), sqlPool.close(), control.close()]);
  }
}

function activityPath(database: Database): ReservationPath {
  const activities = createActivities({ db: database.db });
  return {
    name: 'activity',
    reserve: (idempotencyKey, sku) =>
      activities.applyStockOperation({
        kind: 'reserve',
        idempotencyKey,
        sku,
        location: LOCATION,
        quantity: 1,
        actor: ACTOR,
        ttlSeconds: TTL_SECONDS,
      }),
  };
}

function rawSqlPath(sql: postgres.Sql): ReservationPath {
  return { name: 'raw SQL', reserve: (idempotencyKey, sku) => reserveInSql(sql, idempotencyKey, sku) };
}

/**
 * The baseline: the statement applyStockOperation sends for a reserve, sent straight to the pool
 * with nothing around it. It is imported from the ledger (db/ledger.ts reserveStatement), not
 * written out here: a copy drifted from the ledger without anything noticing, while an import is
 * the same SQL, parameters and request hash by construction, and a test comparing two texts
 * would only catch the drift afterwards. What the baseline leaves out is what the figures are
 * about: the activity's input parsing, and our code around the statement (refusals, replays).
 */
async function reserveInSql(sql: postgres.Sql, idempotencyKey: string, sku: string): Promise<unknown> {
  const op = { kind: 'reserve', idempotencyKey, sku, location: LOCATION, quantity: 1, actor: ACTOR, ttlSeconds: TTL_SECONDS } as const;
  const [reserved] = await reserveStatement(sql, keyed(op));
  // Every attempt has a fresh key and a SKU with stock to spare, so nothing reserved is a fault in the benchmark.
  if (!reserved) throw new Error(`nothing reserved for ${idempotencyKey} (${sku})`);
  return reserved.result;
}

async function runScenario(scenario: Scenario, paths: ReservationPath[], control: Database): Promise<ScenarioFigures> {
  const label = `${scenario.name} (${CLIENTS} clients, ${fmt(scenario.skuCount)} SKU${scenario.skuCount === 1 ? '' : 's'})`;
  console.log(`\n${label}, ${fmt(scenario.unitsPerSku)} units per SKU, fresh SKUs every run`);
  const violations: Checks = { oversold: 0, negative: 0, drifted: 0, miscounted: 0 };
  const rates = new Map<ReservationPath, number[]>(paths.map((p) => [p, []]));
  let runNumber = 0;
  const runOnce = async (path: ReservationPath, attempts: number, tag: string) => {
    const run = await measureRun(scenario, path, attempts, runNumber++, control);
    addChecks(violations, run.checks);
    console.log(`  ${tag.padEnd(8)} ${path.name.padEnd(8)} ${fmt(run.rate).padStart(7)} res/s   ${describeChecks(run.checks, attempts)}`);
    return run.rate;
  };
  for (const path of paths) await runOnce(path, WARM_UP_ATTEMPTS, 'warm-up');
  for (let i = 1; i <= MEASURED_RUNS; i++) {
    for (const path of paths) rates.get(path)?.push(await runOnce(path, ATTEMPTS_PER_RUN, `run ${i}`));
  }
  return { label, violations, paths: paths.map((p) => ({ path: p.name, medianRate: median(rates.get(p) ?? []) })) };
}

async function measureRun(
  scenario: Scenario,
  path: ReservationPath,
  attempts: number,
  runNumber: number,
  control: Database,
): Promise<{ rate: number; checks: Checks }> {
  const skus = Array.from({ length: scenario.skuCount }, (_, i) => `${scenario.skuPrefix}-${runNumber}-${i}`);
  await stockUp(control, skus, scenario.unitsPerSku);
  const started = performance.now();
  await drive(attempts, (i) => path.reserve(`bench/${skus[0]}/${i}`, skus[i % skus.length]));
  const seconds = (performance.now() - started) / 1000;
  return { rate: attempts / seconds, checks: await check(control, skus, attempts) };
}

/** New SKUs for every run, so each run starts from full stock on rows no earlier run has touched. */
async function stockUp(control: Database, skus: string[], units: number): Promise<void> {
  await addToCatalogue(control.db, { locations: [], items: [{ name: `bench ${skus[0]}`, skus }] });
  await Promise.all(
    skus.map((sku) =>
      applyStockOperation(control.db, {
        kind: 'receive',
        idempotencyKey: `bench/receive/${sku}`,
        actor: ACTOR,
        sku,
        location: LOCATION,
        quantity: units,
      }),
    ),
  );
}

/** CLIENTS concurrent loops share the attempts; the first failure stops them all and is rethrown. */
async function drive(attempts: number, attempt: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const client = async () => {
    while (next < attempts && !failure) {
      const i = next++;
      try {
        await attempt(i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  if (failure) throw failure.error;
}

/**
 * On this run's SKUs (fresh every run, so a violation belongs to the run that caused it): no balance
 * is oversold or negative, every balance equals the sum of its ledger movements, and there is
 * exactly one reservation and one reserved unit per attempt.
 */
async function check(control: Database, skus: string[], attempts: number): Promise<Checks> {
  const [found] = await control.sql<{ oversold: number; negative: number; drifted: number; reservations: number; reserved: number }[]>`
    WITH run_variants AS (SELECT id FROM variants WHERE sku = ANY(${skus})),
    balances AS (SELECT * FROM stock_balances WHERE variant_id IN (SELECT id FROM run_variants)),
    ledger AS (
      SELECT variant_id, location_id,
             sum(delta_on_hand)::int AS on_hand, sum(delta_reserved)::int AS reserved,
             sum(delta_committed)::int AS committed, sum(delta_incoming)::int AS incoming
      FROM stock_movements WHERE variant_id IN (SELECT id FROM run_variants)
      GROUP BY variant_id, location_id
    )
    SELECT
      count(*) FILTER (WHERE b.reserved > b.on_hand OR b.available < 0)::int AS oversold,
      count(*) FILTER (WHERE least(b.on_hand, b.reserved, b.committed, b.incoming) < 0)::int AS negative,
      count(*) FILTER (WHERE b.variant_id IS NULL OR l.variant_id IS NULL
        OR (b.on_hand, b.reserved, b.committed, b.incoming) <> (l.on_hand, l.reserved, l.committed, l.incoming))::int AS drifted,
      (SELECT count(*) FROM reservations WHERE variant_id IN (SELECT id FROM run_variants))::int AS reservations,
      (SELECT coalesce(sum(reserved), 0) FROM balances)::int AS reserved
    FROM balances b FULL JOIN ledger l USING (variant_id, location_id)`;
  const { reservations, reserved, ...balances } = found;
  return { ...balances, miscounted: Number(reservations !== attempts) + Number(reserved !== attempts) };
}

function addChecks(total: Checks, run: Checks): void {
  total.oversold += run.oversold;
  total.negative += run.negative;
  total.drifted += run.drifted;
  total.miscounted += run.miscounted;
}

function totalOf(checks: Checks): number {
  return checks.oversold + checks.negative + checks.drifted + checks.miscounted;
}

function describeChecks(checks: Checks, attempts: number): string {
  const counts = checks.miscounted === 0 ? `${fmt(attempts)} reserved` : `reservation count MISMATCH`;
  return `oversell ${checks.oversold} · negative ${checks.negative} · ledger drift ${checks.drifted} · ${counts}`;
}

function printSummary(figures: ScenarioFigures[]): void {
  console.log(`\nmedian of ${MEASURED_RUNS} runs per path:`);
  for (const { label, paths, violations } of figures) {
    const [activity, baseline] = paths;
    const ratio = activity.medianRate / baseline.medianRate;
    const target = ratio >= TARGET_RATIO ? `target ≥ ${TARGET_RATIO.toFixed(2)}` : `BELOW target ${TARGET_RATIO.toFixed(2)}`;
    const rates = paths.map((p) => `${p.path} ${fmt(p.medianRate)} res/s`).join(' · ');
    const failures = totalOf(violations) === 0 ? '' : ` · CHECKS FAILED (negative ${violations.negative}, drift ${violations.drifted}, miscounted ${violations.miscounted})`;
    console.log(`  ${label}: ${rates} · ratio ${ratio.toFixed(2)} (${target}) · oversell ${violations.oversold}${failures}`);
  }
}


