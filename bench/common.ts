import { findOrBuildTemporalCli } from '../runtime/temporal-cli';
import { startTemporalDevServer, type TemporalServer } from '../runtime/temporal-server';
import { freePort } from '../runtime/wait';

/** A headless, in-memory Temporal dev server of the benchmark's own, on free ports. */
export async function startBenchTemporal(namespace?: string): Promise<TemporalServer> {
  const log = (line: string) => console.error(`[temporal] ${line}`);
  const cli = await findOrBuildTemporalCli(log);
  if (!cli) throw new Error('no Temporal CLI and no Go to build one: set TEMPORAL_CLI_PATH');
  return startTemporalDevServer({ cli, port: await freePort(), uiPort: await freePort(), headless: true, namespace, log });
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
