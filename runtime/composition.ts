import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { ActivityDeps } from '../activities';
import type { ApiDeps } from '../api/server';
import { connect, type Database } from '../db/connection';
import { allocationRulesOf, countingRulesOf, feedRulesOf, oidcSettingsOf, orderWindowsOf, purchasingRulesOf, type EnvConfig } from '../schemas/config';
import { loadSourceSecrets } from './source-secrets';
import { currentTracing } from './tracing';
import type { WorkerOptions } from '../workers/worker';

/** Database connections per process, shared by its worker and API (docs: "20 per process"). */
const POOL_SIZE = 20;

/** Where the app's Postgres and Temporal are: from the configuration, or servers started here. */
export interface Endpoints {
  databaseUrl: string;
  temporalAddress: string;
  /** The Web UI of a Temporal dev server started here, for links when TEMPORAL_UI_URL is unset. */
  temporalUiUrl?: string;
}

/** Everything Stockflow's worker and API run on, built once per process from the configuration. */
export interface App {
  config: EnvConfig;
  database: Database;
  client: Client;
  activityDeps: ActivityDeps;
  /** A worker's options; its native connection opens on first call, after the caller installed its Runtime. */
  workerOptions(): Promise<Omit<WorkerOptions, 'workflowBundle'>>;
  apiDeps(): ApiDeps;
  /** Closes the connections it opened (stop workers and the API first). */
  close(): Promise<void>;
}

/**
 * The composition root: `npm start` (runtime/stack.ts), `stockflow worker` (cli/worker.ts) and the
 * benchmarks build their dependencies here and nowhere else.
 */
export async function composeApp(
  config: EnvConfig,
  endpoints: Endpoints,
  options: { poolSize?: number; log?: (line: string) => void } = {},
): Promise<App> {
  const database = connect(endpoints.databaseUrl, { max: options.poolSize ?? POOL_SIZE });
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: endpoints.temporalAddress });
  } catch (error) {
    await database.close();
    throw error;
  }
  const tracing = currentTracing();
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, ...(tracing ? { interceptors: { workflow: [tracing.clientInterceptor] } } : {}) });
  const activityDeps = activityDepsOf(config, { database, client, temporalUiUrl: endpoints.temporalUiUrl, log: options.log });
  let native: Promise<NativeConnection> | undefined;
  return {
    config,
    database,
    client,
    activityDeps,
    async workerOptions() {
      native ??= NativeConnection.connect({ address: endpoints.temporalAddress });
      return { connection: await native, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.STOCKFLOW_TASK_QUEUE, ...activityDeps };
    },
    apiDeps: () => ({ database, client, ...apiSettingsOf(config), ...(endpoints.temporalUiUrl && !config.TEMPORAL_UI_URL ? { temporalUiUrl: endpoints.temporalUiUrl } : {}) }),
    async close() {
      if (native) await (await native).close();
      await connection.close();
      await database.close();
    },
  };
}

/** What the API takes from the configuration (everything but its connections). */
export function apiSettingsOf(config: EnvConfig): Omit<ApiDeps, 'database' | 'client'> {
  return {
    taskQueue: config.STOCKFLOW_TASK_QUEUE,
    webhookSecret: config.STOCKFLOW_WEBHOOK_SECRET,
    apiToken: config.STOCKFLOW_API_TOKEN,
    sourceSecrets: loadSourceSecrets(config.STOCKFLOW_SOURCE_SECRETS_FILE),
    oidc: oidcSettingsOf(config),
    authFailureLimit: config.STOCKFLOW_AUTH_FAILURE_LIMIT,
    feedRules: feedRulesOf(config),
    feedBodyLimitBytes: config.STOCKFLOW_FEED_MAX_BYTES,
    orderWindows: orderWindowsOf(config),
    importBodyLimitBytes: config.STOCKFLOW_IMPORT_MAX_BYTES,
    importChunkSize: config.STOCKFLOW_IMPORT_CHUNK_SIZE,
    allocation: allocationRulesOf(config),
    cartTtlSeconds: config.STOCKFLOW_CART_TTL,
    purchasing: purchasingRulesOf(config),
    counting: countingRulesOf(config),
    temporalUiUrl: config.TEMPORAL_UI_URL ?? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`,
    namespace: config.TEMPORAL_NAMESPACE,
  };
}

function activityDepsOf(
  config: EnvConfig,
  parts: { database: Database; client: Client; temporalUiUrl?: string; log?: (line: string) => void },
): ActivityDeps {
  const prefixed = (what: string) => (parts.log ? (line: string) => parts.log?.(`${what}: ${line}`) : undefined);
  return {
    db: parts.database.db,
    notifier: {
      namespace: config.TEMPORAL_NAMESPACE,
      webhookUrl: config.STOCKFLOW_NOTIFY_WEBHOOK_URL,
      temporalUiUrl: config.TEMPORAL_UI_URL ?? parts.temporalUiUrl,
      log: prefixed('notify'),
    },
    temporal: { client: parts.client, taskQueue: config.STOCKFLOW_TASK_QUEUE },
    fulfilment: { url: config.STOCKFLOW_FULFILMENT_URL, log: prefixed('fulfilment') },
    uiDecisions: config.STOCKFLOW_UI_DECISIONS,
    alerts: config.STOCKFLOW_ALERTS,
    replenishmentWindowDays: config.STOCKFLOW_REPLENISHMENT_WINDOW_DAYS,
    sourceSecrets: loadSourceSecrets(config.STOCKFLOW_SOURCE_SECRETS_FILE),
    webhookSecret: config.STOCKFLOW_WEBHOOK_SECRET,
    counting: countingRulesOf(config),
  };
}

/** The Postgres and Temporal a process joins when it starts neither itself (`stockflow worker`). */
export function configuredEndpoints(config: EnvConfig, who: string): Endpoints {
  const { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress } = config;
  if (databaseUrl && temporalAddress) return { databaseUrl, temporalAddress };
  const missing = [databaseUrl ? [] : ['DATABASE_URL'], temporalAddress ? [] : ['TEMPORAL_ADDRESS']].flat();
  throw new Error(
    `${who} joins a running stack and needs ${missing.join(' and ')}: set ${missing.length === 1 ? 'it' : 'them'} to the Postgres and Temporal that stack uses (npm start prints both)`,
  );
}
