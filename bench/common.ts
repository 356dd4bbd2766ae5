import { composeApp, type App } from '../runtime/composition';
import { findOrBuildTemporalCli } from '../runtime/temporal-cli';
import { startTemporalDevServer, type TemporalServer } from '../runtime/temporal-server';
import { freePort } from '../runtime/wait';
import { readFileSync } from 'node:fs';
import type postgres from 'postgres';
import { DEFAULT_CONFIG } from '../schemas/config';

/** A headless, in-memory Temporal dev server of the benchmark's own, on free ports. */
export async function startBenchTemporal(namespace?: string): Promise<TemporalServer> {
  const log = (line: string) => console.error(`[temporal] ${line}`);
  const cli = await findOrBuildTemporalCli(log);
  if (!cli) throw new Error('no Temporal CLI and no Go to build one: set TEMPORAL_CLI_PATH');
  return startTemporalDevServer({ cli, port: await freePort(), uiPort: await freePort(), headless: true, namespace, log });
}

/**
 * Busy and total jiffies of the whole machine so far (/proc/stat), all cores together. The first
 * eight fields only: guest time is already counted in user time.
 */
export function machineCpu(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = values.map(Number);
  const idle = n[3] + (n[4] ?? 0);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** machineCpu, or undefined where the machine has no /proc/stat to read. */
function machineCpuIfReadable(): { busy: number; total: number } | undefined {
  try {
    return machineCpu();
  } catch {
    return undefined;
  }
}

/**
 * Waits until the machine is quiet: under `busyShare` of its CPU used over a second (what a run
 * left behind, workflows and the Temporal server catching up, would otherwise land on the next
 * measured run). Gives up after `timeoutMs` and says so; returns at once where it cannot tell.
 */
export async function quietMachine(busyShare = 0.15, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = machineCpuIfReadable();
  while (last && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = machineCpuIfReadable();
    if (!now || (now.busy - last.busy) / Math.max(1, now.total - last.total) < busyShare) return;
    last = now;
  }
  if (last) console.log(`  (the machine was still busy after ${Math.round(timeoutMs / 1000)} s; measuring anyway)`);
}

/**
 * A benchmark's own Temporal server and the app composed over it and the benchmark's database, as
 * `npm start` composes it, configured with the defaults (not the caller's environment) and silent.
 */
export async function startBenchApp(
  databaseUrl: string,
  options: { taskQueue: string; namespace?: string; poolSize?: number },
): Promise<{ temporal: TemporalServer; app: App; stop(): Promise<void> }> {
  const temporal = await startBenchTemporal(options.namespace);
  const config = { ...DEFAULT_CONFIG, STOCKFLOW_TASK_QUEUE: options.taskQueue, TEMPORAL_NAMESPACE: options.namespace ?? DEFAULT_CONFIG.TEMPORAL_NAMESPACE };
  try {
    const app = await composeApp(config, { databaseUrl, temporalAddress: temporal.address }, { poolSize: options.poolSize, log: () => undefined });
    return {
      temporal,
      app,
      stop: async () => {
        await app.close();
        await temporal.stop();
      },
    };
  } catch (error) {
    await temporal.stop();
    throw error;
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** A whole number with thousands separators, as the figures are printed. */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The benchmarks named on the command line, in the order named; all of them when none is. */
export function selectBenchmarks<B extends { name: string }>(all: readonly B[], names: readonly string[]): B[] {
  const unknown = names.filter((name) => !all.some((b) => b.name === name));
  if (unknown.length > 0) {
    const listed = unknown.map((name) => `"${name}"`).join(', ');
    throw new Error(`unknown benchmark${unknown.length === 1 ? '' : 's'} ${listed}: choose from ${all.map((b) => b.name).join(', ')}`);
  }
  return names.length === 0 ? [...all] : [...new Set(names)].map((name) => all.find((b) => b.name === name) as B);
}

/** Locations `L1…`, one item and its variants `B-1…`, negative stock allowed: the skeleton of a generated history. */
export async function seedBenchCatalogue(sql: postgres.Sql, variants: number, locations: number): Promise<void> {
  await sql`INSERT INTO locations (code, name) SELECT 'L' || n, 'Location ' || n FROM generate_series(1, ${locations}) n`;
  await sql`INSERT INTO items (name, allow_negative) VALUES ('Bench', true)`;
  await sql`INSERT INTO variants (item_id, sku, allow_negative) SELECT (SELECT id FROM items), 'B-' || n, true FROM generate_series(1, ${variants}) n`;
}
