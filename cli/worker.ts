import { rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { connect } from '../db/connection';
import { runMigrations } from '../db/migrate';
import { activityDepsFromConfig } from '../runtime/activity-deps';
import { loadConfig } from '../runtime/config';
import { DATABASE_NAME } from '../runtime/stack';
import { bundleWorkflowsOutOfProcess, createWorker } from '../workers/worker';

/**
 * `stockflow worker`: one more worker process on the task queue, for scaling out. Points at
 * TEMPORAL_ADDRESS and DATABASE_URL, defaulting to the stack `npm start` runs on this machine.
 */
export async function workerCommand(): Promise<void> {
  const config = loadConfig();
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const databaseUrl = config.DATABASE_URL ?? `postgres://stockflow:stockflow@127.0.0.1:${config.STOCKFLOW_PG_PORT}/${DATABASE_NAME}`;
  const database = connect(databaseUrl, { max: 20 });
  await runMigrations(database);
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }), namespace: config.TEMPORAL_NAMESPACE });
  const workflowBundle = await bundleWorkflowsOutOfProcess();
  const worker = await createWorker({
    workflowBundle,
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.STOCKFLOW_TASK_QUEUE,
    ...activityDepsFromConfig(config, {
      db: database.db,
      client,
      temporalUiUrl: config.TEMPORAL_ADDRESS ? undefined : `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`,
    }),
  });
  console.log(`[stockflow] worker polling ${config.STOCKFLOW_TASK_QUEUE} on ${address}; Ctrl-C stops it`);
  await worker.run();
  rmSync(workflowBundle.codePath, { force: true });
  await connection.close();
  await client.connection.close();
  await database.close();
}
