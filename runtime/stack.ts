import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApi, services } from '../api/server';
import { ensureChannelSyncs } from '../services/channels';
import { relayUndeliveredOrderEvents } from '../services/orders';
import type { Services } from '../services/context';
import { ensureSchedules } from '../services/schedules';
import { addToCatalogue, isCatalogueEmpty } from '../db/catalogue';
import type { Database } from '../db/connection';
import { DEMO_CATALOGUE } from '../db/demo-catalogue';
import { runMigrations } from '../db/migrate';
import { loadOwnershipIfEmpty } from '../db/ownership';
import type { EnvConfig } from '../schemas/config';
import { createWorker } from '../workers/worker';
import { composeApp } from './composition';
import { ensureDatabase, startEmbeddedPostgres, type PostgresServer } from './postgres';
import { findOrBuildTemporalCli, PROJECT_ROOT } from './temporal-cli';
import { startTemporalDevServer, type TemporalServer } from './temporal-server';
import { readOwnershipFile } from './ownership-file';
import { startSdkTestServer } from './temporal-fallback';

const DATABASE_NAME = 'stockflow';

export interface Stack {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

type Log = (line: string) => void;

/**
 * Brings up everything Stockflow needs, reusing what the environment points at and starting the
 * rest locally: Postgres, Temporal, migrations, the demo catalogue (empty database only), a
 * worker and the HTTP API. `stop()` undoes it in reverse order.
 */
export async function startStack(config: EnvConfig, log: Log): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((error: unknown) => log(`while stopping: ${String(error)}`));
  };
  try {
    const dataDir = path.resolve(PROJECT_ROOT, config.STOCKFLOW_DATA_DIR);
    const [postgres, temporal] = await Promise.all([startPostgres(config, dataDir, log), startTemporal(config, dataDir, log)]);
    if (postgres.server) stops.push(() => postgres.server!.stop());
    if (temporal.server) stops.push(() => temporal.server!.stop());

    const app = await composeApp(config, { databaseUrl: postgres.url, temporalAddress: temporal.address, temporalUiUrl: temporal.server?.uiUrl }, { log });
    stops.push(() => app.close());
    await runMigrations(app.database);
    if (app.config.STOCKFLOW_DEMO === 'on') await seedIfEmpty(app.database, log);
    const ownershipFile = path.resolve(PROJECT_ROOT, config.STOCKFLOW_OWNERSHIP_FILE);
    if (await loadOwnershipIfEmpty(app.database.db, readOwnershipFile(ownershipFile))) log(`loaded owners and ownership rules from ${ownershipFile}`);

    log('bundling workflow code and starting the worker');
    const worker = await createWorker(await app.workerOptions());
    const running = runWorker(worker, log);
    const scheduled = await ensureSchedules(app.client, config.STOCKFLOW_TASK_QUEUE);
    if (scheduled.length > 0) log(`created schedules ${scheduled.join(', ')}`);
    await ensureChannelSyncs(app.client, config.STOCKFLOW_TASK_QUEUE, app.database.db);
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const api = await buildApi(app.apiDeps());
    const apiUrl = await listen(api, config);
    stops.push(() => api.close());
    const relay = relayOrderEvents(services(app.apiDeps()), log);
    stops.push(async () => clearInterval(relay));

    return {
      apiUrl,
      temporalAddress: temporal.address,
      temporalUiUrl: config.TEMPORAL_UI_URL ?? temporal.server?.uiUrl,
      databaseUrl: postgres.url,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startPostgres(config: EnvConfig, dataDir: string, log: Log): Promise<{ url: string; server?: PostgresServer }> {
  if (config.DATABASE_URL) {
    log(`using PostgreSQL at DATABASE_URL`);
    return { url: config.DATABASE_URL };
  }
  const server = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port: config.STOCKFLOW_PG_PORT, log });
  log(`embedded PostgreSQL listening on 127.0.0.1:${config.STOCKFLOW_PG_PORT} (data in ${path.join(dataDir, 'postgres')})`);
  return { url: await ensureDatabase(server.adminUrl, DATABASE_NAME), server };
}

async function startTemporal(config: EnvConfig, dataDir: string, log: Log): Promise<{ address: string; server?: TemporalServer }> {
  if (config.TEMPORAL_ADDRESS) {
    log(`using Temporal at ${config.TEMPORAL_ADDRESS}`);
    return { address: config.TEMPORAL_ADDRESS };
  }
  const cli = await findOrBuildTemporalCli(log, { cliPath: config.TEMPORAL_CLI_PATH });
  if (!cli) {
    log('no Temporal CLI and no Go: downloading a dev server through @temporalio/testing');
    const server = await startSdkTestServer(config.TEMPORAL_NAMESPACE);
    return { address: server.address, server };
  }
  const server = await startTemporalDevServer({
    cli,
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: path.join(dataDir, 'temporal.db'),
    namespace: config.TEMPORAL_NAMESPACE,
    log,
  });
  return { address: server.address, server };
}

async function seedIfEmpty(database: Database, log: Log): Promise<void> {
  if (!(await isCatalogueEmpty(database.db))) return;
  await addToCatalogue(database.db, DEMO_CATALOGUE);
  log(`seeded the demo catalogue: ${DEMO_CATALOGUE.items.flatMap((i) => i.skus).join(', ')}`);
}

function runWorker(worker: Worker, log: Log): Promise<void> {
  return worker.run().catch((error: unknown) => {
    log(`worker stopped with an error: ${String(error)}`);
  });
}

async function listen(api: FastifyInstance, config: EnvConfig): Promise<string> {
  await api.listen({ host: config.STOCKFLOW_API_HOST, port: config.STOCKFLOW_API_PORT });
  return `http://${config.STOCKFLOW_API_HOST}:${config.STOCKFLOW_API_PORT}`;
}

/** Relay seconds: an event this old and still undelivered lost its start (the API stopped after the commit). */
const RELAY_AFTER_SECONDS = 30;

/** The outbox relay of placed orders, every half minute; every API process may run it, a repeat changes nothing. */
function relayOrderEvents(s: Services, log: (line: string) => void): NodeJS.Timeout {
  return setInterval(() => {
    relayUndeliveredOrderEvents(s, RELAY_AFTER_SECONDS).then(
      (relayed) => relayed > 0 && log(`relayed ${relayed} order event(s) whose delivery was lost`),
      (error: unknown) => log(`order event relay failed, retrying in ${RELAY_AFTER_SECONDS}s: ${error instanceof Error ? error.message : String(error)}`),
    );
  }, RELAY_AFTER_SECONDS * 1000);
}
