import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import { buildApi } from '../api/server';
import { sha256 } from '../db/canonical';
import { addToCatalogue } from '../db/catalogue';
import { connect, type Database } from '../db/connection';
import { lineOperation, recordChunk } from '../db/feeds';
import { applyStockOperations } from '../db/ledger-batch';
import { mapSupplierSkus, registerSupplier } from '../db/suppliers';
import type { PlannedLine } from '../domain/feed-rules';
import { replaceOwnership } from '../db/ownership';
import { stopProcess } from '../runtime/processes';
import { PROJECT_ROOT } from '../runtime/temporal-cli';
import { waitFor } from '../runtime/wait';
import { DEFAULT_CONFIG } from '../schemas/config';
import type { FeedSummary } from '../workflows/supplier-feed-ingest';
import { bundleWorkflowsOutOfProcess } from '../workers/worker';
import type { FromWorker, ToWorker } from './feed-worker';
import { fmt, median, startBenchApp } from './common';
import { workflowIds } from '../domain/keys';

/** The worker's Node flags in production (package.json `worker` script). */
export const PRODUCTION_NODE_ARGS = ['--max-old-space-size=256'];

const SKUS = 5_000;
const LINES = 100_000;
const WARM_UP_LINES = 10_000;
/** Full-size runs per path, alternating; the summary gives medians. */
const MEASURED_RUNS = 3;
/** The chunk size of the measured runs (the configured default)… */
const CHUNK_SIZE = DEFAULT_CONFIG.STOCKFLOW_FEED_CHUNK_SIZE;
/** …and other values tried once each, full size, to show how the knob matters. */
const OTHER_CHUNK_SIZES = [500, 5_000];
/** Lines per transaction of the baseline. */
const BASELINE_BATCH = 2_000;
const TARGET_RATIO = 0.25;
const TARGET_RSS_MB = 400;
const NAMESPACE = 'default';
const TASK_QUEUE = 'bench-feeds';
const SAMPLE_MS = 100;

/** One line as the supplier sends it: the supplier's SKU, its current quantity, and a sequence (higher is newer). */
interface Line {
  sku: string;
  quantity: number;
  sequence: number;
}

interface Feed {
  lines: Line[];
  csv: string;
  /** The last line's quantity and sequence per supplier SKU: what every run must end with. */
  finals: Map<string, { quantity: number; sequence: number }>;
}

/** A supplier of its own, at a location of its own, for one run: every run starts from no stock and no sequences. */
interface Target {
  supplierId: string;
  locationCode: string;
  locationId: number;
  feedId: string;
}

interface Checks {
  /** Lines with no outcome, more than one, or an outcome other than applied (the feed is built so all apply). */
  lineOutcomes: number;
  /** SKUs whose on-hand (or last applied sequence) is not the feed's last line for them. */
  wrongFinals: number;
  /** Balances at the run's location that differ from the sum of their movements. */
  drifted: number;
  /** Movements at the location that are not exactly one per line. */
  movements: number;
}

interface RunFigures {
  seconds: number;
  rate: number;
  peakRssMb?: number;
  /** Where a stockflow run's time went, from its workflow history. */
  parts?: Parts;
  checks: Checks;
}

/** Seconds: the POST until it answered 202, the assessFeed activity, the applyFeedChunk activities (how many), and the rest. */
interface Parts {
  post: number;
  assess: number;
  chunks: number;
  chunkCount: number;
  /** Temporal between activities: task dispatch, workflow tasks, continue-as-new, the result reaching the client. */
  between: number;
}

interface WorkerMemory {
  startup: number;
  peak: number;
}

const supplierSku = (i: number) => `S-${String(i).padStart(5, '0')}`;
const ourSku = (i: number) => `FEED-${String(i).padStart(5, '0')}`;

/**
 * A 100,000-line supplier feed posted to the API and ingested by the workflow (its worker in a
 * child process, so its memory is its own), against the same writes made directly with the same
 * statements (runBaseline).
 * True if every run's checks held.
 */
export async function benchFeeds(databaseUrl: string): Promise<boolean> {
  const control = connect(databaseUrl, { max: 4 });
  const baselineDatabase = connect(databaseUrl, { max: 2 });
  let bench: Awaited<ReturnType<typeof startBenchApp>> | undefined;
  let worker: WorkerProcess | undefined;
  const apps = new Map<number, FastifyInstance>();
  try {
    await seed(control);
    bench = await startBenchApp(databaseUrl, { taskQueue: TASK_QUEUE, namespace: NAMESPACE, poolSize: 10 });
    const { temporal, app: composed } = bench;
    const { client } = composed;
    // As `npm run worker` runs it: workflow code bundled out of process, heap capped.
    worker = await startWorker(databaseUrl, temporal.address, (await bundleWorkflowsOutOfProcess()).codePath, PRODUCTION_NODE_ARGS);
    const startup = worker.peakSinceReset();
    const appFor = async (chunkSize: number) => {
      let app = apps.get(chunkSize);
      if (!app) {
        const deps = composed.apiDeps();
        app = await buildApi({ ...deps, feedRules: { ...deps.feedRules, chunkSize } });
        apps.set(chunkSize, app);
      }
      return app;
    };

    const feed = buildFeed(LINES);
    const warmUpFeed = buildFeed(WARM_UP_LINES);
    console.log(
      `${fmt(LINES)}-line CSV feed (${(feed.csv.length / 1024 / 1024).toFixed(1)} MB) over ${fmt(SKUS)} mapped SKUs, ` +
        `${LINES / SKUS} lines per SKU in rising sequences, every line applies; ${MEASURED_RUNS} runs per path after a ` +
        `${fmt(WARM_UP_LINES)}-line warm-up, paths alternating, each on a fresh supplier and location, VACUUM ANALYZE + CHECKPOINT before each; ` +
        `baseline: the same statements sent directly (the ledger's batch and the chunk's line records), ${fmt(BASELINE_BATCH)} lines per transaction`,
    );
    // Everything (Postgres, Temporal, the API, the worker) shares this machine's cores: say how busy it was.
    console.log(`${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)} at the start`);
    console.log(`worker in its own process, as \`stockflow worker\` runs it (pool 20, workflow code bundled out of process, ${PRODUCTION_NODE_ARGS.join(' ')}): start-up peak RSS ${startup.toFixed(0)} MB`);

    let runNumber = 0;
    const violations: Checks = { lineOutcomes: 0, wrongFinals: 0, drifted: 0, movements: 0 };
    const report = (tag: string, name: string, lineCount: number, run: RunFigures) => {
      addChecks(violations, run.checks);
      const rss = run.peakRssMb === undefined ? '' : ` · worker peak RSS ${run.peakRssMb.toFixed(0)} MB`;
      const parts = run.parts ? ` (${describeParts(run.parts)})` : '';
      console.log(`  ${tag.padEnd(8)} ${name.padEnd(22)} ${fmt(run.rate).padStart(6)} lines/s ${run.seconds.toFixed(1).padStart(5)} s${rss}${parts} · ${describeChecks(run.checks, lineCount)}`);
    };
    const stockflowRun = async (f: Feed, chunkSize: number, tag: string, on: WorkerProcess = worker as WorkerProcess) => {
      const target = await prepareTarget(control, runNumber++);
      await settle(control);
      const run = await runStockflow(await appFor(chunkSize), client, on, control, target, f);
      report(tag, `stockflow (chunk ${fmt(chunkSize)})`, f.lines.length, run);
      return run;
    };
    const baselineRun = async (f: Feed, tag: string) => {
      const target = await prepareTarget(control, runNumber++);
      await settle(control);
      const run = await runBaseline(baselineDatabase.sql, control, target, f);
      report(tag, 'batched SQL, direct', f.lines.length, run);
      return run;
    };

    await stockflowRun(warmUpFeed, CHUNK_SIZE, 'warm-up');
    await baselineRun(warmUpFeed, 'warm-up');
    const ours: RunFigures[] = [];
    const baseline: RunFigures[] = [];
    for (let i = 1; i <= MEASURED_RUNS; i++) {
      ours.push(await stockflowRun(feed, CHUNK_SIZE, `run ${i}`));
      baseline.push(await baselineRun(feed, `run ${i}`));
    }
    const others: { chunkSize: number; run: RunFigures }[] = [];
    for (const chunkSize of OTHER_CHUNK_SIZES) others.push({ chunkSize, run: await stockflowRun(feed, chunkSize, 'knob') });
    const production: WorkerMemory = { startup, peak: Math.max(startup, worker.lifetimePeak()) };
    await worker.stop();

    // For comparison, the naive set-up: webpack run inside the worker at start, no heap cap.
    worker = await startWorker(databaseUrl, temporal.address, undefined, []);
    const prebuiltStartup = worker.peakSinceReset();
    console.log(`worker restarted bundling in-process without a heap cap: start-up peak RSS ${prebuiltStartup.toFixed(0)} MB`);
    const prebuiltRun = await stockflowRun(feed, CHUNK_SIZE, 'naive', worker);
    const prebuilt: WorkerMemory = { startup: prebuiltStartup, peak: Math.max(prebuiltStartup, worker.lifetimePeak(), prebuiltRun.peakRssMb ?? 0) };

    printSummary({ ours, baseline, others, violations, production, prebuilt });
    console.log(`  load average ${os.loadavg()[0].toFixed(1)} at the end (${os.cpus().length} CPUs)`);
    return totalOf(violations) === 0;
  } finally {
    for (const app of apps.values()) await app.close();
    await worker?.stop();
    await bench?.stop();
    await Promise.all([control.close(), baselineDatabase.close()]);
  }
}

/**
 * Every run starts from the same kind of database: dead rows vacuumed, statistics fresh, dirty
 * pages written, so no run pays for the autovacuum and checkpoint its predecessor's 100,000 lines
 * of writes would cause. Not timed. CHECKPOINT needs a superuser (or pg_checkpoint); without one,
 * the vacuum alone.
 */
async function settle(control: Database): Promise<void> {
  await control.sql`VACUUM (ANALYZE)`;
  await control.sql`CHECKPOINT`.catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Set-up

async function seed(control: Database): Promise<void> {
  const items = Array.from({ length: SKUS / 500 }, (_, item) => ({
    name: `Feed bench item ${item}`,
    skus: Array.from({ length: 500 }, (_, i) => ourSku(item * 500 + i)),
  }));
  await addToCatalogue(control.db, { locations: [], items });
  // Nothing in the feed is held, so no exception is raised; the rules are there as they would be in production.
  await replaceOwnership(control.db, {
    owners: [
      { id: 'ops', name: 'Ops', contact: 'ops@example.com', roles: ['approver'] },
      { id: 'buyer', name: 'Buyer', contact: 'buyer@example.com', roles: ['purchasing'] },
    ],
    rules: [
      { owner: 'ops', backup: 'buyer', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' },
      { match: { exceptionType: 'supplier_feed_line' }, owner: 'buyer', backup: 'ops', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' },
    ],
  });
}

async function prepareTarget(control: Database, n: number): Promise<Target> {
  const target = { supplierId: `bench-${n}`, locationCode: `FEEDS-${n}`, feedId: `bench-feed-${n}` };
  await addToCatalogue(control.db, { locations: [{ code: target.locationCode, name: `Feed bench run ${n}` }], items: [] });
  await registerSupplier(control.db, { id: target.supplierId, name: `Bench supplier ${n}`, location: target.locationCode });
  await mapSupplierSkus(control.db, target.supplierId, Array.from({ length: SKUS }, (_, i) => ({ supplierSku: supplierSku(i), sku: ourSku(i) })));
  const [{ id }] = await control.sql<{ id: number }[]>`SELECT id FROM locations WHERE code = ${target.locationCode}`;
  return { ...target, locationId: id };
}

/**
 * Line i is for SKU i mod 5,000, so each SKU gets one line per round, its sequence the round. The
 * quantity moves by 13 or 27 units each round (never 0, never a spike: below spikeAbsolute 50) and
 * stays between 100 and 139, so every line applies and changes stock.
 */
function buildFeed(lineCount: number): Feed {
  const lines: Line[] = [];
  const finals = new Map<string, { quantity: number; sequence: number }>();
  for (let i = 0; i < lineCount; i++) {
    const sku = i % SKUS;
    const round = Math.floor(i / SKUS);
    const line = { sku: supplierSku(sku), quantity: 100 + ((sku * 7 + round * 13) % 40), sequence: round + 1 };
    lines.push(line);
    finals.set(line.sku, { quantity: line.quantity, sequence: line.sequence });
  }
  const csv = `sku,quantity,sequence\n${lines.map((l) => `${l.sku},${l.quantity},${l.sequence}\n`).join('')}`;
  return { lines, csv, finals };
}


// ---------------------------------------------------------------------------------------------
// The worker process and its memory

export interface WorkerProcess {
  /** Peak RSS (MB) since the last reset, and resets it: a run's peak when called at its start and end. */
  peakSinceReset(): number;
  /** Starts sampling for one run; the returned function stops and gives the run's peak RSS in MB. */
  sample(): () => number;
  /** The highest RSS seen by any sample or high-water mark so far. */
  lifetimePeak(): number;
  /** `work`, unless the worker dies first (out of memory, say): then a failure, not a wait for ever on a workflow no one runs. */
  whileAlive<T>(work: Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export async function startWorker(
  databaseUrl: string,
  temporalAddress: string,
  workflowBundlePath: string | undefined,
  nodeArgs: string[],
  taskQueue = TASK_QUEUE,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(__dirname, 'feed-worker.ts')], {
    cwd: PROJECT_ROOT,
    // Configured as an operator configures `stockflow worker`.
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: NAMESPACE,
      STOCKFLOW_TASK_QUEUE: taskQueue,
      ...(workflowBundlePath ? { BENCH_WORKFLOW_BUNDLE: workflowBundlePath } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: FromWorker[] = [];
  child.on('message', (m: FromWorker) => messages.push(m));
  try {
    await waitFor(
      'the feed worker to start',
      async () => {
        const failed = messages.find((m) => m.type === 'failed');
        if (failed?.type === 'failed') throw new Error(`the feed worker failed to start: ${failed.error}`);
        if (child.exitCode !== null) throw new Error(`the feed worker exited (${child.exitCode})`);
        return messages.some((m) => m.type === 'ready') ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 100 },
    );
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  const pid = child.pid as number;
  let stopping = false;
  const died = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      if (!stopping) reject(new Error(`the bench worker died (${signal ?? `exit code ${code}`}) with work in flight`));
    }),
  );
  // Raced by whileAlive; a death with nothing in flight surfaces at the next run.
  died.catch(() => undefined);
  let lifetime = 0;
  const rssOf = (field: 'VmRSS' | 'VmHWM') => {
    let status = '';
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      // The worker has gone (its failure surfaces through the workflow); nothing to sample.
    }
    const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    const mb = match ? Number(match[1]) / 1024 : 0;
    lifetime = Math.max(lifetime, mb);
    return mb;
  };
  const peakSinceReset = () => {
    const peak = rssOf('VmHWM');
    try {
      // "5" resets the process's peak RSS to its current RSS (Linux ≥ 4.0).
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // Not permitted: the samples alone give the peak.
    }
    return peak;
  };
  return {
    peakSinceReset,
    sample() {
      peakSinceReset();
      let peak = rssOf('VmRSS');
      const timer = setInterval(() => {
        peak = Math.max(peak, rssOf('VmRSS'));
      }, SAMPLE_MS);
      return () => {
        clearInterval(timer);
        return Math.max(peak, peakSinceReset());
      };
    },
    lifetimePeak: () => lifetime,
    whileAlive: (work) => Promise.race([work, died]),
    stop: () => {
      stopping = true;
      return stopWorker(child);
    },
  };
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'stop' } satisfies ToWorker);
  const timer = setTimeout(() => void stopProcess(child), 20_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// The two paths

/** POST the CSV to the API, wait for the workflow's result: the time from the POST to done. */
async function runStockflow(app: FastifyInstance, client: Client, worker: WorkerProcess, control: Database, target: Target, feed: Feed): Promise<RunFigures> {
  const stopSampling = worker.sample();
  const started = performance.now();
  const response = await app.inject({
    method: 'POST',
    url: `/v1/suppliers/${target.supplierId}/feeds?feedId=${target.feedId}`,
    headers: { 'content-type': 'text/csv' },
    payload: feed.csv,
  });
  const posted = performance.now();
  if (response.statusCode !== 202) throw new Error(`POST feed answered ${response.statusCode}: ${response.body}`);
  const { workflowId } = response.json() as { workflowId: string };
  if (workflowId !== workflowIds.feed(target.supplierId, target.feedId)) throw new Error(`unexpected workflow id ${workflowId}`);
  const summary: FeedSummary = await worker.whileAlive(client.workflow.getHandle(workflowId).result());
  const seconds = (performance.now() - started) / 1000;
  const peakRssMb = stopSampling();
  const activities = await activityTimes(client, workflowId);
  const post = (posted - started) / 1000;
  const parts = { post, ...activities, between: seconds - post - activities.assess - activities.chunks };
  const checks = await check(control, target, feed);
  const c = summary.counts;
  if (summary.phase !== 'done' || c.read !== feed.lines.length || c.applied !== feed.lines.length) checks.lineOutcomes += Math.max(1, feed.lines.length - c.applied);
  return { seconds, rate: feed.lines.length / seconds, peakRssMb, parts, checks };
}

/** Seconds in the feed's activities (started to completed), over every run of its continue-as-new chain. */
async function activityTimes(client: Client, workflowId: string): Promise<{ assess: number; chunks: number; chunkCount: number }> {
  const times = { assess: 0, chunks: 0, chunkCount: 0 };
  const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  let runId: string | undefined;
  do {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const scheduled = new Map<number, string>();
    const startedAt = new Map<number, number>();
    runId = undefined;
    for (const event of history.events ?? []) {
      const previous = event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (previous) runId = previous;
      const schedule = event.activityTaskScheduledEventAttributes;
      if (schedule) scheduled.set(Number(event.eventId), schedule.activityType?.name ?? '');
      const start = event.activityTaskStartedEventAttributes;
      if (start) startedAt.set(Number(start.scheduledEventId), millis(event.eventTime));
      const done = event.activityTaskCompletedEventAttributes;
      if (!done) continue;
      const seconds = (millis(event.eventTime) - (startedAt.get(Number(done.scheduledEventId)) ?? millis(event.eventTime))) / 1000;
      const name = scheduled.get(Number(done.scheduledEventId));
      if (name === 'assessFeed') times.assess += seconds;
      if (name === 'applyFeedChunk') {
        times.chunks += seconds;
        times.chunkCount += 1;
      }
    }
  } while (runId);
  return times;
}

/**
 * The baseline: the same writes as the workflow makes for this feed (the stored feed; per line a
 * stock operation under its key, a ledger movement, an audit row and an outcome; the balances; the
 * last sequence per SKU; an audit row per batch), made directly over postgres.js: the CSV split by
 * hand, the mapping read once, then per batch of 2,000 lines one transaction.
 *
 * Its statements are imported, not copied: the ledger's batch (db/ledger-batch.ts, whose writes are
 * db/ledger.ts recordBatch) and the chunk's record of its lines (db/feeds.ts recordChunk). A copy
 * drifted from the ledger without anything noticing, while an import is the same SQL by
 * construction, and a test comparing two texts would only catch the drift afterwards. It knows
 * every line applies, so it plans nothing: it leaves out the API, the workflow and its activities,
 * the rules, and the chunk's bookkeeping (its lock, its replay check, the mapping and sequences
 * read per chunk), which is what the ratio is about.
 */
async function runBaseline(sql: postgres.Sql, control: Database, target: Target, feed: Feed): Promise<RunFigures> {
  const started = performance.now();
  const body = feed.csv;
  const rows = body.split('\n').slice(1).filter((row) => row !== '');
  const lines = rows.map((row) => {
    const [sku, quantity, sequence] = row.split(',');
    return { sku, quantity: Number(quantity), sequence: Number(sequence) };
  });
  const [stored] = await sql<{ id: number }[]>`
    INSERT INTO supplier_feeds (supplier_id, feed_id, format, content_hash, body, line_count, status, workflow_id)
    VALUES (${target.supplierId}, ${target.feedId}, 'csv', ${sha256(body)}, ${body}, ${lines.length}, 'processing', ${workflowIds.feed(target.supplierId, target.feedId)})
    RETURNING id`;
  const feedRef = { feedPk: Number(stored.id), supplierId: target.supplierId, feedId: target.feedId, locationCode: target.locationCode };
  const mapping = new Map<string, { variantId: number; sku: string; unitFactor: number }>();
  for (const m of await sql<{ supplier_sku: string; variant_id: number; sku: string; unit_factor: number }[]>`
    SELECT m.supplier_sku, m.variant_id, v.sku, m.unit_factor FROM supplier_sku_map m JOIN variants v ON v.id = m.variant_id
    WHERE m.supplier_id = ${target.supplierId}`) {
    mapping.set(m.supplier_sku, { variantId: m.variant_id, sku: m.sku, unitFactor: m.unit_factor });
  }

  for (let from = 0; from < lines.length; from += BASELINE_BATCH) {
    const batch: PlannedLine[] = lines.slice(from, from + BASELINE_BATCH).map((line, i) => {
      const m = mapping.get(line.sku);
      if (!m) throw new Error(`baseline: no mapping for ${line.sku}`);
      return { lineNo: from + i + 1, outcome: 'applied', supplierSku: line.sku, variantId: m.variantId, sku: m.sku, sequence: line.sequence, quantity: line.quantity * m.unitFactor };
    });
    await sql.begin(async (tx) => {
      const outcomes = await applyStockOperations(tx, batch.map((line) => lineOperation(feedRef, line)));
      const refused = outcomes.find((o) => 'refusal' in o);
      if (refused && 'refusal' in refused) throw new Error(`baseline: ${refused.op.idempotencyKey} refused: ${refused.refusal.message}`);
      await recordChunk(tx, feedRef, batch, false);
    });
  }
  await sql`UPDATE supplier_feeds SET status = 'applied', completed_at = now() WHERE id = ${feedRef.feedPk}`;
  const seconds = (performance.now() - started) / 1000;
  return { seconds, rate: feed.lines.length / seconds, checks: await check(control, target, feed) };
}

// ---------------------------------------------------------------------------------------------
// Checks and figures

/**
 * On the run's own feed, supplier and location: every line has exactly one outcome and it is
 * applied; every SKU ends on its last line's quantity and sequence; every balance equals the sum
 * of its movements, and there is exactly one movement per line.
 */
async function check(control: Database, target: Target, feed: Feed): Promise<Checks> {
  const skus = [...feed.finals.keys()];
  const [found] = await control.sql<{ line_outcomes: number; wrong_finals: number; drifted: number; movements: number }[]>`
    WITH feed AS (SELECT id FROM supplier_feeds WHERE supplier_id = ${target.supplierId} AND feed_id = ${target.feedId}),
    lines AS (
      SELECT line_no, count(*) AS outcomes, bool_and(outcome = 'applied') AS applied
      FROM feed_lines WHERE feed_pk = (SELECT id FROM feed) GROUP BY line_no
    ),
    expected AS (
      SELECT m.variant_id, e.quantity, e.sequence
      FROM unnest(${skus}::text[], ${skus.map((s) => feed.finals.get(s)?.quantity as number)}::int[],
                  ${skus.map((s) => feed.finals.get(s)?.sequence as number)}::bigint[]) AS e(sku, quantity, sequence)
      LEFT JOIN supplier_sku_map m ON m.supplier_id = ${target.supplierId} AND m.supplier_sku = e.sku
    ),
    balances AS (SELECT * FROM stock_balances WHERE location_id = ${target.locationId}),
    ledger AS (
      SELECT variant_id, location_id, sum(delta_on_hand)::int AS on_hand, sum(delta_reserved)::int AS reserved,
             sum(delta_committed)::int AS committed, sum(delta_incoming)::int AS incoming, count(*) AS movements,
             count(DISTINCT idempotency_key) AS keys
      FROM stock_movements WHERE location_id = ${target.locationId} GROUP BY variant_id, location_id
    )
    SELECT
      (${feed.lines.length} - (SELECT count(*) FROM lines WHERE outcomes = 1 AND applied AND line_no BETWEEN 1 AND ${feed.lines.length})
        + (SELECT count(*) FROM lines WHERE outcomes <> 1 OR NOT applied OR line_no NOT BETWEEN 1 AND ${feed.lines.length}))::int AS line_outcomes,
      (SELECT count(*) FROM expected e
        LEFT JOIN balances b ON b.variant_id = e.variant_id
        LEFT JOIN feed_sequences s ON s.supplier_id = ${target.supplierId} AND s.variant_id = e.variant_id
        WHERE b.on_hand IS DISTINCT FROM e.quantity OR s.last_sequence IS DISTINCT FROM e.sequence OR s.last_quantity IS DISTINCT FROM e.quantity)::int AS wrong_finals,
      (SELECT count(*) FROM balances b FULL JOIN ledger l USING (variant_id, location_id)
        WHERE b.variant_id IS NULL OR l.variant_id IS NULL
           OR (b.on_hand, b.reserved, b.committed, b.incoming) <> (l.on_hand, l.reserved, l.committed, l.incoming))::int AS drifted,
      abs(${feed.lines.length} - (SELECT coalesce(sum(keys), 0) FROM ledger))::int
        + (SELECT count(*) FROM ledger WHERE movements <> keys)::int AS movements`;
  return { lineOutcomes: found.line_outcomes, wrongFinals: found.wrong_finals, drifted: found.drifted, movements: found.movements };
}

function addChecks(total: Checks, run: Checks): void {
  total.lineOutcomes += run.lineOutcomes;
  total.wrongFinals += run.wrongFinals;
  total.drifted += run.drifted;
  total.movements += run.movements;
}

function totalOf(checks: Checks): number {
  return checks.lineOutcomes + checks.wrongFinals + checks.drifted + checks.movements;
}

function describeChecks(checks: Checks, lineCount: number): string {
  if (totalOf(checks) === 0) return `checks ok (${fmt(lineCount)} outcomes, finals, ledger)`;
  return `CHECKS FAILED: line outcomes ${checks.lineOutcomes} · wrong finals ${checks.wrongFinals} · ledger drift ${checks.drifted} · movements off by ${checks.movements}`;
}

function describeParts(parts: Parts): string {
  return `POST ${parts.post.toFixed(1)} s, assess ${parts.assess.toFixed(1)} s, ${parts.chunkCount} chunks ${parts.chunks.toFixed(1)} s, between activities ${parts.between.toFixed(1)} s`;
}

function printSummary(figures: {
  ours: RunFigures[];
  baseline: RunFigures[];
  others: { chunkSize: number; run: RunFigures }[];
  violations: Checks;
  production: WorkerMemory;
  prebuilt: WorkerMemory;
}): void {
  const { ours, baseline, others, violations, production, prebuilt } = figures;
  const ourRate = median(ours.map((r) => r.rate));
  const ourSeconds = median(ours.map((r) => r.seconds));
  const baselineRate = median(baseline.map((r) => r.rate));
  const ratio = ourRate / baselineRate;
  const ratioTarget = ratio >= TARGET_RATIO ? `target ≥ ${TARGET_RATIO}` : `BELOW target ${TARGET_RATIO}`;
  const rssTarget = (mb: number) => (mb < TARGET_RSS_MB ? `target < ${TARGET_RSS_MB} MB` : `OVER target ${TARGET_RSS_MB} MB`);
  const ingesting = Math.max(...ours.map((r) => r.peakRssMb ?? 0), ...others.map((o) => o.run.peakRssMb ?? 0));
  console.log(`\nmedian of ${ours.length} runs per path:`);
  console.log(
    `  feed ${fmt(LINES)} lines: stockflow ${fmt(ourRate)} lines/s (${ourSeconds.toFixed(1)} s to done) · ` +
      `batched SQL, direct ${fmt(baselineRate)} lines/s (${median(baseline.map((r) => r.seconds)).toFixed(1)} s) · ratio ${ratio.toFixed(2)} (${ratioTarget}) · ` +
      `worker peak RSS ${production.peak.toFixed(0)} MB (${rssTarget(production.peak)})`,
  );
  const part = (of: (p: Parts) => number) => median(ours.map((r) => (r.parts ? of(r.parts) : 0)));
  console.log(
    `  stockflow's time to done: POST ${part((p) => p.post).toFixed(1)} s · assess ${part((p) => p.assess).toFixed(1)} s · ` +
      `${part((p) => p.chunkCount)} applyFeedChunk activities ${part((p) => p.chunks).toFixed(1)} s (${((1000 * part((p) => p.chunks)) / part((p) => p.chunkCount)).toFixed(0)} ms each) · ` +
      `Temporal between activities ${part((p) => p.between).toFixed(1)} s`,
  );
  console.log(
    `  worker RSS (as \`npm run worker\` runs it: bundle built out of process, ${PRODUCTION_NODE_ARGS.join(' ')}): ${production.startup.toFixed(0)} MB after start-up, ${ingesting.toFixed(0)} MB at most while ingesting; ` +
      `bundling in-process with no heap cap: ${prebuilt.startup.toFixed(0)} MB after start-up, peak ${prebuilt.peak.toFixed(0)} MB`,
  );
  const knob = [{ chunkSize: CHUNK_SIZE, rate: ourRate, seconds: ourSeconds, note: `median of ${ours.length}` }, ...others.map((o) => ({ chunkSize: o.chunkSize, rate: o.run.rate, seconds: o.run.seconds, note: 'one run' }))]
    .sort((a, b) => a.chunkSize - b.chunkSize)
    .map((k) => `${fmt(k.chunkSize)}: ${fmt(k.rate)} lines/s, ${k.seconds.toFixed(1)} s (${k.note})`)
    .join(' · ');
  console.log(`  chunk size (lines per activity): ${knob}`);
  if (totalOf(violations) > 0) console.log(`  CHECKS FAILED: ${describeChecks(violations, LINES)}`);
}



