import { rmSync } from 'node:fs';
import { DefaultLogger } from '@temporalio/worker';
import { runMigrations } from '../db/migrate';
import { composeApp, configuredEndpoints } from '../runtime/composition';
import { loadConfig } from '../runtime/config';
import { serveMetrics } from '../runtime/metrics-server';
import { installRuntime } from '../runtime/telemetry';
import { bundleWorkflowsOutOfProcess, createWorker } from '../workers/worker';

/**
 * `stockflow worker`: one more worker process on the task queue, for scaling out. It joins the
 * Postgres and Temporal named by DATABASE_URL and TEMPORAL_ADDRESS; it starts neither.
 */
export async function workerCommand(): Promise<void> {
  const config = loadConfig();
  const endpoints = configuredEndpoints(config, 'stockflow worker');
  await installRuntime({ logger: new DefaultLogger('INFO') });
  const metricsServer = await startMetrics(config.STOCKFLOW_WORKER_METRICS);
  const app = await composeApp(config, endpoints);
  try {
    await runMigrations(app.database);
    const workflowBundle = await bundleWorkflowsOutOfProcess();
    try {
      const worker = await createWorker({ ...(await app.workerOptions()), workflowBundle });
      console.log(`[stockflow] worker polling ${config.STOCKFLOW_TASK_QUEUE} on ${endpoints.temporalAddress}; Ctrl-C stops it`);
      await worker.run();
    } finally {
      rmSync(workflowBundle.codePath, { force: true });
    }
  } finally {
    await app.close();
    await metricsServer?.close();
  }
}

async function startMetrics(address: string): Promise<{ close(): Promise<void> } | undefined> {
  if (address === 'off') return undefined;
  const at = address.lastIndexOf(':');
  const server = await serveMetrics(address.slice(0, at), Number(address.slice(at + 1)));
  console.log(`[stockflow] worker metrics at ${server.url}`);
  return server;
}
