import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { connect } from '../db/connection';
import { runMigrations } from '../db/migrate';
import { ensureDatabase, startEmbeddedPostgres, type PostgresServer } from '../runtime/postgres';
import { removeDataDir } from '../runtime/postgres-as-root';
import { freePort } from '../runtime/wait';
import { benchCatalogue } from './catalogue';
import { benchAuth } from './auth';
import { benchChannels } from './channels';
import { benchFeeds } from './feeds';
import { benchFlashSale } from './flash-sale';
import { benchKpis } from './kpis';
import { benchLoad } from './load';
import { benchOrders } from './orders';
import { benchReplenishment } from './replenishment';
import { benchReservations } from './reservations';
import { selectBenchmarks } from './common';

/** A benchmark gets a fresh, migrated database of its own and says whether its correctness checks held. */
interface Benchmark {
  /** What `npm run bench -- <name>` calls it. */
  name: string;
  title: string;
  run(databaseUrl: string): Promise<boolean>;
}

/** Run in this order; add new benchmarks here. */
const BENCHMARKS: Benchmark[] = [
  { name: 'reservations', title: 'reservation throughput', run: benchReservations },
  { name: 'orders', title: 'orders end to end', run: benchOrders },
  { name: 'flash-sale', title: 'flash sale: answers at checkout', run: benchFlashSale },
  { name: 'feeds', title: 'supplier feed ingest', run: benchFeeds },
  { name: 'load', title: 'sustained mixed load', run: benchLoad },
  { name: 'catalogue', title: 'catalogue import and stock pages', run: benchCatalogue },
  { name: 'auth', title: 'authentication cost per request', run: benchAuth },
  { name: 'kpis', title: 'KPIs over 90 days of history', run: benchKpis },
  { name: 'channels', title: 'channel availability sync', run: benchChannels },
  { name: 'replenishment', title: 'replenishment over 20,000 SKU-locations', run: benchReplenishment },
];

async function main(selected: Benchmark[]): Promise<number> {
  const server = await startServer();
  try {
    let allHeld = true;
    for (const benchmark of selected) {
      console.log(`\n=== ${benchmark.title} (${benchmark.name}) ===`);
      const held = await runInFreshDatabase(server.adminUrl, benchmark);
      allHeld &&= held;
    }
    return allHeld ? 0 : 1;
  } finally {
    await server.stop();
  }
}

/** The server named by DATABASE_URL (left running), or a throwaway embedded one. */
async function startServer(): Promise<PostgresServer> {
  const external = process.env.DATABASE_URL;
  if (external) return { adminUrl: external, stop: async () => undefined };
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'stockflow-bench-'));
  const removeScratch = () => {
    removeDataDir(path.join(scratchDir, 'pg'));
    rmSync(scratchDir, { recursive: true, force: true });
  };
  try {
    const server = await startEmbeddedPostgres({
      dataDir: path.join(scratchDir, 'pg'),
      port: await freePort(),
      log: (line) => console.error(`[postgres] ${line}`),
    });
    return {
      adminUrl: server.adminUrl,
      stop: async () => {
        await server.stop();
        removeScratch();
      },
    };
  } catch (error) {
    removeScratch();
    throw error;
  }
}

async function runInFreshDatabase(adminUrl: string, benchmark: Benchmark): Promise<boolean> {
  const name = `stockflow_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = await ensureDatabase(adminUrl, name);
  try {
    await migrate(url);
    return await benchmark.run(url);
  } finally {
    await dropDatabase(adminUrl, name);
  }
}

async function migrate(url: string): Promise<void> {
  const database = connect(url, { max: 2 });
  try {
    await runMigrations(database);
  } finally {
    await database.close();
  }
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    // FORCE: a benchmark that failed mid-run may not have closed every connection.
    await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await sql.end();
  }
}

function benchmarksAsked(): Benchmark[] {
  try {
    return selectBenchmarks(BENCHMARKS, process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
}

main(benchmarksAsked()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
