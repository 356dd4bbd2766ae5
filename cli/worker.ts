import { rmSync } from 'node:fs';
import { runMigrations } from '../db/migrate';
import { composeApp, configuredEndpoints } from '../runtime/composition';
import { loadConfig } from '../runtime/config';
import { bundleWorkflowsOutOfProcess, createWorker } from '../workers/worker';

/**
 * `stockflow worker`: one more worker process on the task queue, for scaling out. It joins the
 * Postgres and Temporal named by DATABASE_URL and TEMPORAL_ADDRESS; it starts neither.
 */
export async function workerCommand(): Promise<void> {
  const config = loadConfig();
  const endpoints = configuredEndpoints(config, 'stockflow worker');
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
  }
}
