import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { applyImportChunk } from '../db/catalogue-import';
import { connect, type Database } from '../db/connection';
import { applyChunks, checkImport, parseImport, recordsToApply, totalOf, type KnownCatalogue } from '../domain/catalogue-import';
import { DEFAULT_CONFIG } from '../schemas/config';
import type { CatalogueImportProgress } from '../workflows/catalogue-import';
import { bundleWorkflowsOutOfProcess } from '../workers/worker';
import { fmt, median, startBenchApp } from './common';
import { PRODUCTION_NODE_ARGS, startWorker, type WorkerProcess } from './feeds';

const ITEMS = 10_000;
const VARIANTS_PER_ITEM = 5;
const LOCATIONS = 5;
const VARIANTS = ITEMS * VARIANTS_PER_ITEM;
/** Import runs and baseline runs, alternating; the summary gives medians. */
const MEASURED_RUNS = 3;
const CHUNK_SIZE = DEFAULT_CONFIG.STOCKFLOW_IMPORT_CHUNK_SIZE;
const PAGE_REQUESTS = 30;
const TARGET_RATIO = 0.4;
const TARGET_RSS_MB = 400;
const TARGET_PAGE_MS = 50;
const TASK_QUEUE = 'bench-catalogue';

interface Run {
  seconds: number;
  rate: number;
  peakRssMb?: number;
  /** Records that did not land as the file says (variants, balances or ledger movements missing or extra). */
  wrong: number;
}

/**
 * 50,000 variants (10,000 items of 5) over 5 locations with an opening balance each: 300,005
 * records of a stockflow CSV, posted to the API and imported by the catalogueImport workflow (its
 * worker in a process of its own, as `stockflow worker` runs it), against the same records written
 * by the same statements sent directly in batches of the same size (the file parsed and checked
 * in-process, no API, no Temporal). Then GET /v1/stock's first page over the 250,000 balances.
 * True if every run landed every record exactly once.
 */
export async function benchCatalogue(databaseUrl: string): Promise<boolean> {
  const control = connect(databaseUrl, { max: 4 });
  let bench: Awaited<ReturnType<typeof startBenchApp>> | undefined;
  let worker: WorkerProcess | undefined;
  let app: FastifyInstance | undefined;
  try {
    bench = await startBenchApp(databaseUrl, { taskQueue: TASK_QUEUE, poolSize: 10 });
    worker = await startWorker(databaseUrl, bench.temporal.address, (await bundleWorkflowsOutOfProcess()).codePath, PRODUCTION_NODE_ARGS, TASK_QUEUE);
    app = await buildApi({ ...bench.app.apiDeps(), importBodyLimitBytes: 256 * 1024 * 1024 });
    const records = LOCATIONS + VARIANTS * (1 + LOCATIONS);
    console.log(
      `${fmt(VARIANTS)} variants (${fmt(ITEMS)} items × ${VARIANTS_PER_ITEM}) over ${LOCATIONS} locations with opening balances: ${fmt(records)} records of a stockflow CSV ` +
        `(${(file('x').length / 1024 / 1024).toFixed(1)} MB); chunks of ${fmt(CHUNK_SIZE)}; ${MEASURED_RUNS} runs per path after a warm-up, alternating, each with SKUs and locations of its own; ` +
        `baseline: the same chunks written by the same statements directly (parsed and checked in-process, no API, no Temporal)`,
    );
    console.log(`${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)} at the start; worker start-up peak RSS ${worker.peakSinceReset().toFixed(0)} MB`);
    let wrong = 0;
    const report = (tag: string, name: string, run: Run) => {
      wrong += run.wrong;
      const rss = run.peakRssMb === undefined ? '' : ` · worker peak RSS ${run.peakRssMb.toFixed(0)} MB`;
      console.log(`  ${tag.padEnd(8)} ${name.padEnd(22)} ${fmt(run.rate).padStart(7)} records/s ${run.seconds.toFixed(1).padStart(5)} s${rss}${run.wrong ? ` · ${run.wrong} WRONG` : ''}`);
      return run;
    };
    await settle(control);
    report('warm-up', 'API + workflow', await runImport(app, bench, worker, control, 'w'));
    const ours: Run[] = [];
    const plain: Run[] = [];
    for (let n = 1; n <= MEASURED_RUNS; n++) {
      await settle(control);
      ours.push(report(`run ${n}`, 'API + workflow', await runImport(app, bench, worker, control, `i${n}`)));
      await settle(control);
      plain.push(report(`run ${n}`, 'same statements, direct', await runBaseline(control, `b${n}`)));
    }
    await settle(control);
    const page = await firstPages(app);
    const [{ balances }] = await control.sql<{ balances: number }[]>`SELECT count(*)::int AS balances FROM stock_balances`;

    const ratio = median(ours.map((r) => r.rate)) / median(plain.map((r) => r.rate));
    const rss = Math.max(...ours.map((r) => r.peakRssMb ?? 0));
    console.log('\nsummary (medians):');
    console.log(`  import through the API and the workflow: ${fmt(median(ours.map((r) => r.rate)))} records/s; direct: ${fmt(median(plain.map((r) => r.rate)))} records/s`);
    console.log(`  ratio ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'}`);
    console.log(`  worker peak RSS ${rss.toFixed(0)} MB (target < ${TARGET_RSS_MB} MB) ${rss < TARGET_RSS_MB ? 'met' : 'MISSED'}`);
    console.log(
      `  GET /v1/stock first page (100 balances) over ${fmt(balances)} balances: median ${page.all.toFixed(1)} ms, one location ${page.location.toFixed(1)} ms, ` +
        `a SKU prefix ${page.prefix.toFixed(1)} ms (target < ${TARGET_PAGE_MS} ms) ${page.all < TARGET_PAGE_MS ? 'met' : 'MISSED'}`,
    );
    console.log(`  load average ${os.loadavg()[0].toFixed(1)} at the end`);
    return wrong === 0;
  } finally {
    await app?.close();
    await worker?.stop();
    await bench?.stop();
    await control.close();
  }
}

/** The file of one run: SKUs and locations carry the run's tag, so every run imports new records. */
function file(tag: string): string {
  const lines = ['record,code,name,location_kind,handle,title,tags,sku,barcode,option:Size,option:Colour,price,cost,currency,location,on_hand'];
  const location = (l: number) => `${tag.toUpperCase()}-L${l}`;
  for (let l = 0; l < LOCATIONS; l++) lines.push(`location,${location(l)},Bench ${tag} ${l},${l === 0 ? 'warehouse' : 'store'},,,,,,,,,,,,`);
  for (let i = 0; i < ITEMS; i++) {
    for (let v = 0; v < VARIANTS_PER_ITEM; v++) {
      const sku = `${tag.toUpperCase()}-${i}-${v}`;
      lines.push(`variant,,,,${tag}-item-${i},Bench item ${i},"bench, tier-${i % 7}",${sku},${4_000_000_000_000 + i * 10 + v},${36 + v},Black,${(19.9 + v).toFixed(2)},${(7.5 + v).toFixed(2)},EUR,,`);
    }
  }
  for (let i = 0; i < ITEMS; i++) {
    for (let v = 0; v < VARIANTS_PER_ITEM; v++) {
      for (let l = 0; l < LOCATIONS; l++) lines.push(`balance,,,,,,,${tag.toUpperCase()}-${i}-${v},,,,,,,${location(l)},${(i + v + l) % 50}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function runImport(app: FastifyInstance, bench: NonNullable<Awaited<ReturnType<typeof startBenchApp>>>, worker: WorkerProcess, control: Database, tag: string): Promise<Run> {
  const body = file(tag);
  const stopSampling = worker.sample();
  const started = performance.now();
  const response = await app.inject({ method: 'POST', url: `/v1/catalogue/imports?importId=bench-${tag}`, headers: { 'content-type': 'text/csv' }, payload: body });
  if (response.statusCode !== 202) throw new Error(`POST import answered ${response.statusCode}: ${response.body}`);
  const result: CatalogueImportProgress = await worker.whileAlive(bench.app.client.workflow.getHandle(response.json().workflowId).result());
  const seconds = (performance.now() - started) / 1000;
  const peakRssMb = stopSampling();
  const records = LOCATIONS + VARIANTS * (1 + LOCATIONS);
  const wrong = (result.phase === 'applied' ? 0 : 1) + (await landed(control, tag));
  return { seconds, rate: records / seconds, peakRssMb, wrong };
}

/** The same records, parsed and checked in this process, written chunk by chunk by the import's own statements. */
async function runBaseline(control: Database, tag: string): Promise<Run> {
  const body = file(tag);
  const started = performance.now();
  const parsed = parseImport('stockflow-csv', body, 'EUR');
  const known: KnownCatalogue = { skus: new Map(), locations: new Map(), suppliers: new Set() };
  const checked = checkImport(parsed, known, new Map());
  const chunks = [...applyChunks(recordsToApply(parsed.records, new Set(checked.excludedRows), checked.locationCodes), checked.toApply, CHUNK_SIZE)].sort((a, b) => a.chunkNo - b.chunkNo);
  const [{ id }] = await control.sql<{ id: number }[]>`
    INSERT INTO catalogue_imports (import_id, format, content_hash, body, options, workflow_id, status)
    VALUES (${`baseline-${tag}`}, 'stockflow-csv', ${tag}, ${body}, '{}'::jsonb, ${`baseline-${tag}`}, 'applying') RETURNING id`;
  for (const chunk of chunks) {
    await applyImportChunk(control.db, { importPk: Number(id), importId: `baseline-${tag}` }, chunk.chunkNo, JSON.parse(chunk.records), 'bench');
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, rate: totalOf(checked.toApply) / seconds, wrong: await landed(control, tag) };
}

/** How far a run's variants, balances and ledger movements are from what its file says. */
async function landed(control: Database, tag: string): Promise<number> {
  const [row] = await control.sql<{ variants: number; balances: number; units: string; movements: number }[]>`
    SELECT count(DISTINCT v.id)::int AS variants, count(b.*)::int AS balances, coalesce(sum(b.on_hand), 0)::text AS units,
           (SELECT count(*)::int FROM stock_movements m JOIN variants mv ON mv.id = m.variant_id WHERE mv.sku LIKE ${`${tag.toUpperCase()}-%`}) AS movements
    FROM variants v LEFT JOIN stock_balances b ON b.variant_id = v.id
    WHERE v.sku LIKE ${`${tag.toUpperCase()}-%`}`;
  let units = 0;
  let nonZero = 0;
  for (let i = 0; i < ITEMS; i++) {
    for (let v = 0; v < VARIANTS_PER_ITEM; v++) {
      for (let l = 0; l < LOCATIONS; l++) {
        units += (i + v + l) % 50;
        if ((i + v + l) % 50 !== 0) nonZero++;
      }
    }
  }
  return Math.abs(row.variants - VARIANTS) + Math.abs(row.balances - VARIANTS * LOCATIONS) + Math.abs(Number(row.units) - units) + Math.abs(row.movements - nonZero);
}

/** GET /v1/stock's first page, PAGE_REQUESTS times each: unfiltered, one location, a SKU prefix. Medians in ms. */
async function firstPages(app: FastifyInstance): Promise<{ all: number; location: number; prefix: number }> {
  const timed = async (url: string) => {
    const times: number[] = [];
    for (let n = 0; n < PAGE_REQUESTS; n++) {
      const started = performance.now();
      const response = await app.inject({ method: 'GET', url });
      times.push(performance.now() - started);
      if (response.statusCode !== 200 || response.json().items.length === 0) throw new Error(`GET ${url} answered ${response.statusCode}: ${response.body.slice(0, 200)}`);
    }
    return median(times);
  };
  return { all: await timed('/v1/stock'), location: await timed('/v1/stock?location=I2-L3'), prefix: await timed('/v1/stock?skuPrefix=I3-99') };
}

/** Dead rows vacuumed and statistics fresh before each run, so no run pays for its predecessor's writes. Not timed. */
async function settle(control: Database): Promise<void> {
  await control.sql`VACUUM (ANALYZE)`;
  await control.sql`CHECKPOINT`.catch(() => undefined);
}
