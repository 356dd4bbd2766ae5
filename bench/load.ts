import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { decideException, raiseException } from '../services/exceptions';
import { submitFeed } from '../services/feeds';
import { startStockMovement } from '../services/stock-movement';
import { addToCatalogue } from '../db/catalogue';
import { connect, type Database } from '../db/connection';
import { mapSupplierSkus, registerSupplier } from '../db/suppliers';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import type { App } from '../runtime/composition';
import { RaiseException } from '../schemas/exceptions';
import { allocationRulesOf, countingRulesOf, DEFAULT_CONFIG, feedRulesOf, orderWindowsOf, purchasingRulesOf } from '../schemas/config';
import { spawnWorker, type WorkerProcess } from '../test/faults/processes';
import type { ExceptionOutcome } from '../workflows/exception-hold';
import { workflowIds } from '../domain/keys';
import type { OrderOutcome } from '../workflows/order-reconciliation';
import type { MovementOutcome } from '../workflows/stock-movement';
import type { FeedSummary } from '../workflows/supplier-feed-ingest';
import { fmt, machineCpu, percentile, startBenchApp } from './common';

/** Seconds of measured load per configuration (LOAD_SECONDS), after a short warm-up that is not counted. */
const LOAD_SECONDS = positiveNumber(process.env.LOAD_SECONDS, 45);
const WARM_UP_SECONDS = Math.min(5, LOAD_SECONDS / 5);
/** Worker processes per configuration, all on the configuration's one task queue (LOAD_WORKERS, e.g. "1,2,3"). */
const WORKER_COUNTS = (process.env.LOAD_WORKERS ?? '1,2').split(',').map((n) => positiveNumber(n, 1));
/** Concurrent client lanes per kind of flow; each lane starts its next flow when the last one has its outcome. */
const LANES = { movement: 12, order: 6, exception: 3, feed: 1 } as const;
const FEED_LINES = 1_000;
/** A feed lane starts a feed this often (or at once, if the last one took longer). */
const FEED_EVERY_MS = 5_000;
const MOVEMENT_SKUS = 4;
const ORDER_SKUS = 8;
const ORDER_STOCK = 1_000_000;
const EXCEPTION_SKUS = 2;
/** A flow with no outcome this long after it started is counted as an error (a hung workflow). */
const FLOW_TIMEOUT_MS = 90_000;
const RSS_SAMPLE_MS = 1_000;
/**
 * Worker memory is flat when the mean RSS of the last third of the measured window is at most this
 * much above that of the first third (either limit). Above both, it is still GROWING (which fails
 * the benchmark) unless the rise is levelling off: the last third less than a third of the rise
 * above the middle one, the shape of a V8 heap settling, not of a leak (which rises linearly).
 */
const GROWTH_LIMIT = { mb: 25, share: 0.1 };
const LOCATION = 'LOAD';
const CHANNEL = 'load';
const OWNER = 'load-approver';
const ACTOR = 'bench-load';
const NAMESPACE = 'default';
const CORES = os.cpus().length;

type Kind = 'movement' | 'order' | 'exception' | 'feed';
const KINDS: Kind[] = ['movement', 'order', 'exception', 'feed'];
const KIND_LABEL: Record<Kind, string> = { movement: 'movements', order: 'orders', exception: 'exceptions', feed: 'feeds' };

interface Flow {
  kind: Kind;
  startedAt: number;
  endedAt: number;
  ok: boolean;
}

interface Sample {
  at: number;
  mb: number;
}

interface WorkerSeries {
  pid: number;
  idleMb: number;
  samples: Sample[];
  cpuSeconds: number;
}

/** What the bench itself saw applied, per SKU: the balances must end exactly there. */
type Tally = Map<string, { onHand: number }>;

interface Configuration {
  workers: number;
  tag: string;
  taskQueue: string;
  movementSkus: string[];
  orderSkus: string[];
  exceptionSkus: string[];
  feedSkus: string[];
  supplierId: string;
  supplierLocation: string;
}

interface Checks {
  drifted: number;
  duplicateMovements: number;
  wrongFinals: number;
  ordersNotClosed: number;
  unfinishedFlows: number;
  workflowsRunning: number;
  workflowsNotCompleted: number;
  workflowsMissing: number;
  workflowsTotal: number;
}

/** CPU used over the run (warm-up and measured window), in cores (the machine has CORES of them). */
interface Cpu {
  workers: number;
  generator: number;
  temporal: number;
  postgres: number;
  machine: number;
}

interface Figures {
  workers: number;
  taskQueue: string;
  seconds: number;
  flows: Flow[];
  errors: string[];
  errorCount: number;
  feedLines: number;
  rss: WorkerSeries[];
  cpu: Cpu;
  checks: Checks;
}

/**
 * Sustained mixed load (stock movements, orders through the API, supplier feeds, exceptions
 * approved by a person) for a bounded time, on 1 and then 2 worker processes (`stockflow worker`,
 * as an operator runs them) sharing one task queue. Throughput, latency, errors, worker memory
 * over time, and afterwards the ledger and every workflow are checked. True if there were no
 * errors and every check held.
 */
export async function benchLoad(databaseUrl: string): Promise<boolean> {
  const control = connect(databaseUrl, { max: 4 });
  let bench: Awaited<ReturnType<typeof startBenchApp>> | undefined;
  try {
    await seedOwnership(control);
    // The API's; each configuration's workers get a task queue of their own.
    bench = await startBenchApp(databaseUrl, { taskQueue: 'bench-load', namespace: NAMESPACE, poolSize: 12 });
    const { temporal, app } = bench;
    const temporalPid = childPidListeningOn(temporal.address);
    console.log(
      `${LOAD_SECONDS} s measured per configuration after a ${WARM_UP_SECONDS} s warm-up; lanes: ${LANES.movement} stock movements ` +
        `(receive/issue pairs over ${MOVEMENT_SKUS} SKUs, each movement a flow), ${LANES.order} orders (4 events each through the API, placed → shipped), ` +
        `${LANES.exception} exceptions (raise with a held receipt, approve, wait), ${LANES.feed} supplier feed (${fmt(FEED_LINES)} lines every ${FEED_EVERY_MS / 1000} s); ` +
        `worker RSS sampled every ${RSS_SAMPLE_MS / 1000} s; fresh task queue and SKUs per configuration`,
    );
    const results: Figures[] = [];
    for (const workers of WORKER_COUNTS) {
      const configuration = await prepare(control, workers);
      results.push(await runConfiguration(configuration, databaseUrl, temporal.address, temporalPid, app, control));
    }
    printScaling(results);
    return results.every((r) => r.errorCount === 0 && failedChecks(r.checks).length === 0 && !isGrowing(r.rss));
  } finally {
    await bench?.stop();
    await control.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Set-up

async function seedOwnership(control: Database): Promise<void> {
  await addToCatalogue(control.db, { locations: [{ code: LOCATION, name: 'Load benchmark' }], items: [] });
  // Long SLAs: nothing escalates during a run, so an exception's flow is raise → approve → done.
  await replaceOwnership(control.db, {
    owners: [{ id: OWNER, name: 'Load approver', contact: 'load@example.com', roles: ['approver'] }],
    rules: [{ owner: OWNER, backup: OWNER, escalation: OWNER, ackSla: '1h', resolutionSla: '1d' }],
  });
}

/** Fresh SKUs, supplier and task queue, so no configuration sees another's rows or tasks. */
async function prepare(control: Database, workers: number): Promise<Configuration> {
  const tag = `W${workers}${randomUUID().slice(0, 4).toUpperCase()}`;
  const skus = (what: string, n: number) => Array.from({ length: n }, (_, i) => `LOAD-${tag}-${what}-${i}`);
  const configuration: Configuration = {
    workers,
    tag,
    taskQueue: `bench-load-${tag.toLowerCase()}`,
    movementSkus: skus('MOV', MOVEMENT_SKUS),
    orderSkus: skus('ORD', ORDER_SKUS),
    exceptionSkus: skus('EXC', EXCEPTION_SKUS),
    feedSkus: skus('FEED', FEED_LINES),
    supplierId: `load-${tag.toLowerCase()}`,
    supplierLocation: `LOADSUP-${tag}`,
  };
  const { movementSkus, orderSkus, exceptionSkus, feedSkus } = configuration;
  const items = [movementSkus, orderSkus, exceptionSkus, ...chunks(feedSkus, 500)].map((group, i) => ({ name: `load ${tag} item ${i}`, skus: group }));
  await addToCatalogue(control.db, { locations: [{ code: configuration.supplierLocation, name: `Load supplier ${tag}` }], items });
  await registerSupplier(control.db, { id: configuration.supplierId, name: `Load supplier ${tag}`, location: configuration.supplierLocation });
  await mapSupplierSkus(control.db, configuration.supplierId, feedSkus.map((sku, i) => ({ supplierSku: supplierSku(i), sku })));
  for (const sku of orderSkus) {
    await applyStockOperation(control.db, { kind: 'receive', idempotencyKey: `load/${tag}/stock/${sku}`, actor: ACTOR, sku, location: LOCATION, quantity: ORDER_STOCK });
  }
  return configuration;
}

// ---------------------------------------------------------------------------------------------
// One configuration

async function runConfiguration(
  configuration: Configuration,
  databaseUrl: string,
  temporalAddress: string,
  temporalPid: number | undefined,
  app: App,
  control: Database,
): Promise<Figures> {
  const { client, database: apiDatabase } = app;
  const { workers: count, taskQueue } = configuration;
  const workers: WorkerProcess[] = [];
  let api: FastifyInstance | undefined;
  try {
    const spawned = await Promise.allSettled(Array.from({ length: count }, () => spawnWorker({ temporalAddress, databaseUrl, taskQueue })));
    for (const s of spawned) if (s.status === 'fulfilled') workers.push(s.value);
    const failed = spawned.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    api = await buildApi({ ...app.apiDeps(), taskQueue });
    const pids = workers.map((w) => w.child.pid as number);
    console.log(`\n${count} worker process${count === 1 ? '' : 'es'} (pid ${pids.join(', ')}) on task queue ${taskQueue}`);

    const series: WorkerSeries[] = pids.map((pid) => ({ pid, idleMb: rssMb(pid) ?? 0, samples: [], cpuSeconds: 0 }));
    const tally: Tally = new Map();
    const run = new LoadRun(configuration, client, api, apiDatabase, tally);
    const started = performance.now();
    const measureFrom = started + WARM_UP_SECONDS * 1000;
    const measureTo = measureFrom + LOAD_SECONDS * 1000;
    const readCpuNow = () => readCpu(pids, temporalPid, control);
    const cpuBefore = await readCpuNow();
    const sampler = setInterval(() => {
      const now = performance.now();
      for (const s of series) {
        const mb = rssMb(s.pid);
        if (mb !== undefined) s.samples.push({ at: now, mb });
      }
    }, RSS_SAMPLE_MS);
    let cpuAfter: Promise<CpuReading> | undefined;
    const measuredEnd = delay(measureTo - performance.now()).then(() => {
      cpuAfter = readCpuNow();
    });
    try {
      await run.drive(measureTo);
    } finally {
      clearInterval(sampler);
    }
    await measuredEnd;
    const after = await (cpuAfter as Promise<CpuReading>);
    const span = (measureTo - started) / 1000;
    for (const [i, s] of series.entries()) s.cpuSeconds = after.workers[i] - cpuBefore.workers[i];
    const cpu = cpuUsed(cpuBefore, after, span);

    const checks = await check(control, client, configuration, run, tally);
    const figures: Figures = {
      workers: count,
      taskQueue,
      seconds: LOAD_SECONDS,
      flows: run.flows.filter((f) => f.ok && f.endedAt >= measureFrom && f.endedAt <= measureTo),
      errors: run.errors,
      errorCount: run.errorCount,
      feedLines: run.flows.filter((f) => f.ok && f.kind === 'feed' && f.endedAt >= measureFrom && f.endedAt <= measureTo).length * FEED_LINES,
      rss: series.map((s) => ({ ...s, samples: s.samples.filter((x) => x.at >= measureFrom && x.at <= measureTo) })),
      cpu,
      checks,
    };
    // Latencies of every flow started in the measured window (those that ended after it included).
    printConfiguration(figures, run.flows.filter((f) => f.ok && f.startedAt >= measureFrom && f.startedAt <= measureTo));
    return figures;
  } finally {
    await api?.close();
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  }
}

/** The lanes of one configuration and what they saw. */
class LoadRun {
  readonly flows: Flow[] = [];
  readonly errors: string[] = [];
  errorCount = 0;
  /** Flows started, and flows that reached an outcome (good or bad): every started flow must finish. */
  started = 0;
  finished = 0;
  private sequence = 0;
  private readonly feedRules = feedRulesOf(DEFAULT_CONFIG);

  constructor(
    private readonly c: Configuration,
    private readonly client: Client,
    private readonly api: FastifyInstance,
    private readonly apiDatabase: Database,
    private readonly tally: Tally,
  ) {}

  async drive(until: number): Promise<void> {
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < LANES.movement; i++) lanes.push(this.lane(until, () => this.movementPair(i)));
    for (let i = 0; i < LANES.order; i++) lanes.push(this.lane(until, () => this.order()));
    for (let i = 0; i < LANES.exception; i++) lanes.push(this.lane(until, () => this.exception()));
    let round = 0;
    for (let i = 0; i < LANES.feed; i++) {
      lanes.push(
        this.lane(until, async () => {
          const startedAt = performance.now();
          await this.feed(++round);
          await delay(Math.min(until, startedAt + FEED_EVERY_MS) - performance.now());
        }),
      );
    }
    await Promise.all(lanes);
  }

  private async lane(until: number, next: () => Promise<void>): Promise<void> {
    while (performance.now() < until) await next();
  }

  /** Runs one flow: its latency is start → outcome; a throw or an unexpected outcome is an error. */
  private async flow(kind: Kind, work: () => Promise<string | undefined>): Promise<boolean> {
    const startedAt = performance.now();
    this.started += 1;
    let problem: string | undefined;
    try {
      problem = await withTimeout(work(), FLOW_TIMEOUT_MS, `no outcome within ${FLOW_TIMEOUT_MS / 1000} s`);
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    this.finished += 1;
    this.flows.push({ kind, startedAt, endedAt: performance.now(), ok: problem === undefined });
    if (problem !== undefined) {
      this.errorCount += 1;
      if (this.errors.length < 5) this.errors.push(`${kind}: ${problem}`);
    }
    return problem === undefined;
  }

  private count(sku: string, onHand: number): void {
    const entry = this.tally.get(sku) ?? { onHand: 0 };
    entry.onHand += onHand;
    this.tally.set(sku, entry);
  }

  /** A receipt, then an issue of the same quantity on the same SKU (lanes share SKUs, so rows are contended). */
  private async movementPair(lane: number): Promise<void> {
    const n = ++this.sequence;
    const sku = this.c.movementSkus[lane % this.c.movementSkus.length];
    const quantity = 1 + (n % 5);
    for (const kind of ['receive', 'issue'] as const) {
      const ok = await this.flow('movement', async () => {
        const handle = await startStockMovement(this.client, this.c.taskQueue, {
          kind,
          idempotencyKey: `load/${this.c.tag}/move/${n}/${kind}`,
          actor: ACTOR,
          sku,
          location: LOCATION,
          quantity,
        });
        const outcome = (await handle.result()) as MovementOutcome;
        if (outcome.status !== 'applied') return `${kind} refused: ${outcome.code} ${outcome.message}`;
        if (outcome.result.replayed) return `${kind} replayed: a fresh key must apply once`;
        this.count(sku, kind === 'receive' ? quantity : -quantity);
        return undefined;
      });
      if (!ok) return;
    }
  }

  /** placed, paid, accepted and shipped posted back to back through the API; the outcome is the workflow's result. */
  private async order(): Promise<void> {
    const n = ++this.sequence;
    const orderId = `${this.c.tag}-${n}`;
    const sku = this.c.orderSkus[n % this.c.orderSkus.length];
    const quantity = 1 + (n % 3);
    await this.flow('order', async () => {
      const envelope = { orderId, channel: CHANNEL };
      const events = [
        { type: 'order.placed', eventId: `${orderId}-placed`, ...envelope, location: LOCATION, lines: [{ sku, quantity }] },
        ...['order.paid', 'fulfilment.accepted', 'fulfilment.shipped'].map((type) => ({ type, eventId: `${orderId}-${type}`, ...envelope })),
      ];
      for (const event of events) {
        const response = await this.api.inject({ method: 'POST', url: '/v1/orders/events', payload: event });
        if (response.statusCode !== 202) return `${event.type} answered ${response.statusCode}: ${response.body.slice(0, 200)}`;
      }
      const outcome = (await this.client.workflow.getHandle(workflowIds.order(CHANNEL, orderId)).result()) as OrderOutcome;
      if (outcome.state !== 'closed') return `order ${orderId} ended ${outcome.state}${outcome.reason ? `: ${outcome.reason}` : ''}`;
      this.count(sku, -quantity);
      return undefined;
    });
  }

  /** Raised with a held receipt of 1, approved by an entitled owner; the outcome is the workflow's result. */
  private async exception(): Promise<void> {
    const n = ++this.sequence;
    const sku = this.c.exceptionSkus[n % this.c.exceptionSkus.length];
    await this.flow('exception', async () => {
      const handle = await raiseException(
        { client: this.client, taskQueue: this.c.taskQueue },
        RaiseException.parse({
          type: 'load_check',
          subject: `${this.c.tag}-${n}`,
          summary: `load benchmark: add 1 × ${sku}?`,
          heldChange: { kind: 'receive', idempotencyKey: `load/${this.c.tag}/exception/${n}`, actor: ACTOR, sku, location: LOCATION, quantity: 1 },
          source: ACTOR,
          sku,
          location: LOCATION,
        }),
      );
      const decision = await decideException({ db: this.apiDatabase.db, client: this.client }, handle.workflowId, { action: 'approve', by: OWNER, reason: 'load benchmark approval' });
      if (!decision.accepted) return `approval refused: ${decision.refusal}`;
      const outcome = (await handle.result()) as ExceptionOutcome;
      if (outcome.status !== 'approved') return `exception ended ${outcome.status}`;
      if (!outcome.applied || outcome.applied.replayed) return 'the held receipt was not applied exactly once';
      this.count(sku, 1);
      return undefined;
    });
  }

  /** Round r of the supplier's feed: every SKU once, sequence r, a quantity that moves but never spikes. */
  private async feed(round: number): Promise<void> {
    await this.flow('feed', async () => {
      const quantities = this.c.feedSkus.map((_, i) => feedQuantity(i, round));
      const body = `sku,quantity,sequence\n${quantities.map((q, i) => `${supplierSku(i)},${q},${round}`).join('\n')}\n`;
      const submitted = await submitFeed({ db: this.apiDatabase.db, checkoutDb: this.apiDatabase.checkout, client: this.client, taskQueue: this.c.taskQueue, feedRules: this.feedRules, orderWindows: orderWindowsOf(DEFAULT_CONFIG), importChunkSize: DEFAULT_CONFIG.STOCKFLOW_IMPORT_CHUNK_SIZE, allocation: allocationRulesOf(DEFAULT_CONFIG), cartTtlSeconds: DEFAULT_CONFIG.STOCKFLOW_CART_TTL, purchasing: purchasingRulesOf(DEFAULT_CONFIG), counting: countingRulesOf(DEFAULT_CONFIG) }, {
        supplierId: this.c.supplierId,
        format: 'csv',
        body,
        feedId: `${this.c.tag}-${round}`,
      });
      if (!submitted.new) return `feed round ${round} was not new`;
      const summary = (await this.client.workflow.getHandle(submitted.workflowId).result()) as FeedSummary;
      if (summary.phase !== 'done' || summary.counts.read !== FEED_LINES || summary.counts.applied !== FEED_LINES) {
        return `feed round ${round} ended ${summary.phase}: ${JSON.stringify(summary.counts)}`;
      }
      // A feed sets on hand: the tally holds the last applied quantity, not a sum.
      for (const [i, sku] of this.c.feedSkus.entries()) this.tally.set(sku, { onHand: quantities[i] });
      return undefined;
    });
  }
}

const supplierSku = (i: number) => `S${String(i).padStart(4, '0')}`;
/** 100–139, moving by 13 each round: never the same twice in a row, never a spike (< 50 units). */
const feedQuantity = (i: number, round: number) => 100 + ((i * 7 + round * 13) % 40);

// ---------------------------------------------------------------------------------------------
// Checks

/**
 * On the configuration's SKUs: every balance equals the sum of its ledger movements, no movement
 * is recorded twice for a key and row, every balance is exactly what the bench saw applied, and
 * every order is closed. On its task queue: every workflow (children included) completed.
 */
async function check(control: Database, client: Client, c: Configuration, run: LoadRun, tally: Tally): Promise<Checks> {
  const skus = [...c.movementSkus, ...c.orderSkus, ...c.exceptionSkus, ...c.feedSkus];
  const [ledger] = await control.sql<{ drifted: number; duplicates: number }[]>`
    WITH run_variants AS (SELECT id FROM variants WHERE sku = ANY(${skus})),
    balances AS (SELECT * FROM stock_balances WHERE variant_id IN (SELECT id FROM run_variants)),
    ledger AS (
      SELECT variant_id, location_id, sum(delta_on_hand)::int AS on_hand, sum(delta_reserved)::int AS reserved,
             sum(delta_committed)::int AS committed, sum(delta_incoming)::int AS incoming
      FROM stock_movements WHERE variant_id IN (SELECT id FROM run_variants) GROUP BY variant_id, location_id
    )
    SELECT
      (SELECT count(*) FROM balances b FULL JOIN ledger l USING (variant_id, location_id)
        WHERE b.variant_id IS NULL OR l.variant_id IS NULL
           OR (b.on_hand, b.reserved, b.committed, b.incoming) <> (l.on_hand, l.reserved, l.committed, l.incoming))::int AS drifted,
      (SELECT count(*) FROM (
        SELECT 1 FROM stock_movements WHERE variant_id IN (SELECT id FROM run_variants)
        GROUP BY idempotency_key, variant_id, location_id HAVING count(*) > 1) d)::int AS duplicates`;

  const expected = new Map<string, { onHand: number; location: string }>();
  for (const sku of [...c.movementSkus, ...c.exceptionSkus]) expected.set(sku, { onHand: tally.get(sku)?.onHand ?? 0, location: LOCATION });
  for (const sku of c.orderSkus) expected.set(sku, { onHand: ORDER_STOCK + (tally.get(sku)?.onHand ?? 0), location: LOCATION });
  for (const sku of c.feedSkus) expected.set(sku, { onHand: tally.get(sku)?.onHand ?? 0, location: c.supplierLocation });
  const balances = await control.sql<{ sku: string; location: string; on_hand: number; reserved: number; committed: number }[]>`
    SELECT v.sku, l.code AS location, b.on_hand, b.reserved, b.committed
    FROM stock_balances b JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id
    WHERE v.sku = ANY(${skus})`;
  const found = new Map(balances.map((b) => [`${b.sku}@${b.location}`, b]));
  let wrongFinals = 0;
  for (const [sku, want] of expected) {
    const b = found.get(`${sku}@${want.location}`);
    const onHand = b?.on_hand ?? 0;
    if (onHand !== want.onHand || (b?.reserved ?? 0) !== 0 || (b?.committed ?? 0) !== 0) wrongFinals += 1;
  }
  wrongFinals += balances.filter((b) => expected.get(b.sku)?.location !== b.location).length;

  const [orders] = await control.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM orders WHERE channel = ${CHANNEL} AND order_id LIKE ${`${c.tag}-%`} AND state <> 'closed'`;

  // Every flow the lanes started, and every workflow on the queue (the SLA clocks of exceptions
  // too), must have completed. Visibility lags a little behind the last close: poll briefly.
  const exceptions = run.flows.filter((f) => f.kind === 'exception').length;
  const expectedWorkflows = run.started + exceptions;
  const query = (more: string) => `TaskQueue = '${c.taskQueue}'${more}`;
  let workflows = { total: 0, running: 0, notCompleted: 0 };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [total, running, notCompleted] = await Promise.all([
      client.workflow.count(query('')),
      client.workflow.count(query(` AND ExecutionStatus = 'Running'`)),
      client.workflow.count(query(` AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'Running'`)),
    ]);
    workflows = { total: total.count, running: running.count, notCompleted: notCompleted.count };
    if ((workflows.running === 0 && workflows.total >= expectedWorkflows) || Date.now() > deadline) break;
    await delay(500);
  }
  return {
    drifted: ledger.drifted,
    duplicateMovements: ledger.duplicates,
    wrongFinals,
    ordersNotClosed: orders.n,
    unfinishedFlows: run.started - run.finished,
    workflowsRunning: workflows.running,
    workflowsNotCompleted: workflows.notCompleted,
    workflowsMissing: Math.abs(expectedWorkflows - workflows.total),
    workflowsTotal: workflows.total,
  };
}

function failedChecks(c: Checks): string[] {
  const failed: string[] = [];
  if (c.drifted) failed.push(`${c.drifted} balances drifted from the ledger`);
  if (c.duplicateMovements) failed.push(`${c.duplicateMovements} duplicate movements`);
  if (c.wrongFinals) failed.push(`${c.wrongFinals} balances differ from what was applied`);
  if (c.ordersNotClosed) failed.push(`${c.ordersNotClosed} orders not closed`);
  if (c.unfinishedFlows) failed.push(`${c.unfinishedFlows} flows without an outcome`);
  if (c.workflowsRunning) failed.push(`${c.workflowsRunning} workflows still running`);
  if (c.workflowsNotCompleted) failed.push(`${c.workflowsNotCompleted} workflows failed, terminated or timed out`);
  if (c.workflowsMissing) failed.push(`workflows on the queue off by ${c.workflowsMissing} from those started`);
  return failed;
}

// ---------------------------------------------------------------------------------------------
// Figures

function printConfiguration(f: Figures, latencyFlows: Flow[]): void {
  const of = (kind: Kind) => f.flows.filter((x) => x.kind === kind).length;
  const rate = (n: number) => n / f.seconds;
  const perKind = KINDS.map((k) => `${KIND_LABEL[k]} ${rate(of(k)).toFixed(k === 'feed' ? 2 : 1)}/s`).join(' · ');
  console.log(`  throughput  ${rate(f.flows.length).toFixed(1)} flows/s: ${perKind} (${fmt(rate(f.feedLines))} feed lines/s); ${fmt(f.flows.length)} flows in ${f.seconds} s`);
  const latency = KINDS.map((k) => {
    const ms = latencyFlows.filter((x) => x.kind === k).map((x) => x.endedAt - x.startedAt);
    return ms.length === 0 ? `${KIND_LABEL[k]} –` : `${KIND_LABEL[k]} p50 ${fmt(percentile(ms, 0.5))} / p99 ${fmt(percentile(ms, 0.99))} ms`;
  }).join(' · ');
  console.log(`  latency     ${latency} (start → outcome)`);
  console.log(`  errors      ${f.errorCount}${f.errorCount === 0 ? '' : ` (MUST BE 0): ${f.errors.join(' | ')}`}`);
  for (const s of f.rss) {
    const m = memory(s);
    console.log(
      `  worker RSS  pid ${s.pid}: ${s.idleMb.toFixed(0)} MB idle after start-up; under load start ${m.start.toFixed(0)}, max ${m.max.toFixed(0)}, end ${m.end.toFixed(0)} MB; ` +
        `last third − first third ${signed(m.growthMb)} MB (${signed(m.growthShare * 100)}%) → ${m.verdict}; ` +
        `mean by thirds ${m.thirds.map((x) => x.toFixed(0)).join(' → ')} MB`,
    );
  }
  const c = f.cpu;
  const others = Math.max(0, c.machine - c.workers - c.generator - c.temporal - c.postgres);
  console.log(
    `  CPU (cores of ${CORES}, warm-up + measured)  workers ${c.workers.toFixed(2)} (${f.rss.map((s) => (s.cpuSeconds / (f.seconds + WARM_UP_SECONDS)).toFixed(2)).join(' + ')}) · ` +
      `load generator ${c.generator.toFixed(2)} · Temporal server ${c.temporal.toFixed(2)} · Postgres (this database) ${c.postgres.toFixed(2)} · ` +
      `everything else (other jobs on the machine, Postgres' own processes) ${others.toFixed(2)} · machine ${c.machine.toFixed(2)} busy`,
  );
  const failed = failedChecks(f.checks);
  console.log(
    `  checks      ${failed.length === 0 ? 'ok' : `FAILED: ${failed.join(' · ')}`} (ledger = balances, one movement per key and row, balances = what was applied, ` +
      `orders closed; ${fmt(f.checks.workflowsTotal)} workflows on the queue, ${f.checks.workflowsRunning} running, ${f.checks.workflowsNotCompleted} not completed)`,
  );
}

function printScaling(results: Figures[]): void {
  const [one, ...more] = results;
  if (!one) return;
  console.log('');
  for (const r of more) {
    const ratio = (kind?: Kind) => {
      const n = (x: Figures) => x.flows.filter((f) => !kind || f.kind === kind).length;
      return n(one) === 0 ? NaN : n(r) / n(one);
    };
    console.log(
      `scaling ${r.workers} workers ÷ ${one.workers}: ${ratio().toFixed(2)}× total flows/s (` +
        KINDS.map((k) => `${KIND_LABEL[k]} ${ratio(k).toFixed(2)}×`).join(' · ') +
        `); machine ${one.cpu.machine.toFixed(2)} of 2 cores busy with ${one.workers}, ${r.cpu.machine.toFixed(2)} with ${r.workers}`,
    );
  }
  console.log(
    'note: one 2-core machine runs Postgres, the Temporal server, the load generator and every worker; once it is ' +
      'CPU-bound, more worker processes cannot add throughput (they add contention), so the ratio measures this box, not the design.',
  );
}

interface Memory {
  start: number;
  max: number;
  end: number;
  growthMb: number;
  growthShare: number;
  thirds: number[];
  verdict: 'flat' | 'levelling off' | 'GROWING';
}

function memory(s: WorkerSeries): Memory {
  const mbs = s.samples.map((x) => x.mb);
  if (mbs.length < 3) return { start: NaN, max: NaN, end: NaN, growthMb: NaN, growthShare: NaN, thirds: [], verdict: 'GROWING' };
  const cut = (i: number) => Math.round((i * mbs.length) / 3);
  const thirds = [0, 1, 2].map((i) => mean(mbs.slice(cut(i), cut(i + 1))));
  const [first, middle, last] = thirds;
  const growthMb = last - first;
  const growthShare = growthMb / first;
  const verdict = growthMb <= GROWTH_LIMIT.mb || growthShare <= GROWTH_LIMIT.share ? 'flat' : last - middle < growthMb / 3 ? 'levelling off' : 'GROWING';
  return { start: mbs[0], max: Math.max(...mbs), end: mbs[mbs.length - 1], growthMb, growthShare, thirds, verdict };
}

const isGrowing = (series: WorkerSeries[]) => series.some((s) => memory(s).verdict === 'GROWING');

// ---------------------------------------------------------------------------------------------
// Processes, time and small helpers

function rssMb(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of a process so far (/proc/<pid>/stat, fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

interface CpuReading {
  at: number;
  workers: number[];
  generator: NodeJS.CpuUsage;
  temporal: number;
  /** CPU seconds so far of each Postgres backend connected to this database, by pid. */
  backends: Map<number, number>;
  machine: { busy: number; total: number };
}

async function readCpu(workerPids: number[], temporalPid: number | undefined, control: Database): Promise<CpuReading> {
  const rows = await control.sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`;
  return {
    at: performance.now(),
    workers: workerPids.map(cpuSecondsOf),
    generator: process.cpuUsage(),
    temporal: temporalPid === undefined ? 0 : cpuSecondsOf(temporalPid),
    backends: new Map(rows.map((r) => [r.pid, cpuSecondsOf(r.pid)])),
    machine: machineCpu(),
  };
}

/** Cores used between two readings; a backend that connected in between counts from its start (it is new). */
function cpuUsed(before: CpuReading, after: CpuReading, seconds: number): Cpu {
  const generator = process.cpuUsage(before.generator);
  let postgres = 0;
  for (const [pid, used] of after.backends) postgres += used - (before.backends.get(pid) ?? 0);
  const cores = CORES;
  const machine = after.machine.total - before.machine.total;
  return {
    workers: after.workers.reduce((sum, w, i) => sum + w - before.workers[i], 0) / seconds,
    generator: (generator.user + generator.system) / 1e6 / seconds,
    temporal: (after.temporal - before.temporal) / seconds,
    postgres: postgres / seconds,
    machine: machine > 0 ? (cores * (after.machine.busy - before.machine.busy)) / machine : NaN,
  };
}

/** The Temporal dev server this process started: its child whose command line names the port. */
function childPidListeningOn(address: string): number | undefined {
  const port = address.split(':').pop();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes('start-dev') && cmdline.includes(port ?? '')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}


function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function chunks<T>(values: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(values.length / size) }, (_, i) => values.slice(i * size, (i + 1) * size));
}


function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function positiveNumber(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && text.trim() !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
}

const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`;

