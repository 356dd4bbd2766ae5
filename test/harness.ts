import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundle } from '@temporalio/worker';
import type { NotifierConfig } from '../activities/notify';
import type { AlertRules } from '../schemas/alerts';
import type { CountingRules } from '../schemas/counting';
import type { FulfilmentConfig } from '../activities/orders';
import { connect, type Database } from '../db/connection';
import { runMigrations } from '../db/migrate';
import { addPrincipal, issueToken } from '../db/principals';
import { applyStockOperation } from '../db/stock';
import { apiSettingsOf } from '../runtime/composition';
import { ensureDatabase, startEmbeddedPostgres, withDatabase, type PostgresServer } from '../runtime/postgres';
import { removeDataDir } from '../runtime/postgres-as-root';
import { findOrBuildTemporalCli } from '../runtime/temporal-cli';
import { installRuntime } from '../runtime/telemetry';
import { startTemporalDevServer, type TemporalServer } from '../runtime/temporal-server';
import { freePort } from '../runtime/wait';
import { allocationRulesOf, countingRulesOf, DEFAULT_CONFIG, feedRulesOf, orderWindowsOf, purchasingRulesOf } from '../schemas/config';
import type { Role, SourceSecrets, UiDecisions } from '../schemas/identity';
import { StockOperation } from '../schemas/stock';
import type { Services } from '../services/context';
import { bundleWorkflows, createWorker } from '../workers/worker';
import { RecordingLogger } from './log-recorder';

/**
 * One Postgres server, one Temporal server, one workflow bundle for the whole test run. Each
 * suite gets its own database (cloned from a migrated template) and each worker its own task
 * queue, so suites cannot see each other's data or tasks.
 */
interface Shared {
  postgres?: PostgresServer;
  adminUrl: string;
  templateDb: string;
  temporal?: TemporalServer;
  temporalAddress: string;
  namespace: string;
  connection: Connection;
  nativeConnection: NativeConnection;
  client: Client;
  bundle: WorkflowBundle;
  scratchDir: string;
}

/** What `buildApi` takes from an empty environment's configuration; tests override what they need. */
export const defaultApiSettings = apiSettingsOf(DEFAULT_CONFIG);

/** What the SDK and the test workers log: ERROR printed, every level recordable (workerLog.record). */
export const workerLog = new RecordingLogger();

let shared: Shared | undefined;
const log = (line: string) => console.log(`  [harness] ${line}`);

export function infra(): Shared {
  if (!shared) throw new Error('test infrastructure not started: run tests through `npm test` (test/setup.ts)');
  return shared;
}

export async function startInfra(): Promise<void> {
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'stockflow-test-'));
  const runId = randomUUID().slice(0, 8);
  // Retries are expected in tests; WARN would print each one. Tests read WARN and below from workerLog.
  await installRuntime({ logger: workerLog });
  const [pg, temporal, bundle] = await Promise.all([startPostgres(scratchDir), startTemporal(), bundleWorkflows()]);
  const templateDb = `stockflow_template_${runId}`;
  const templateUrl = await ensureDatabase(pg.adminUrl, templateDb);
  const template = connect(templateUrl, { max: 2 });
  await runMigrations(template);
  await template.close();
  const connection = await Connection.connect({ address: temporal.address });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  shared = {
    postgres: pg.server,
    adminUrl: pg.adminUrl,
    templateDb,
    temporal: temporal.server,
    temporalAddress: temporal.address,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    connection,
    nativeConnection,
    client: new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' }),
    bundle,
    scratchDir,
  };
}

export async function stopInfra(): Promise<void> {
  if (!shared) return;
  const s = shared;
  shared = undefined;
  await s.connection.close();
  await s.nativeConnection.close();
  await s.temporal?.stop();
  await s.postgres?.stop();
  removeDataDir(path.join(s.scratchDir, 'pg'));
  rmSync(s.scratchDir, { recursive: true, force: true });
}

async function startPostgres(scratchDir: string): Promise<{ adminUrl: string; server?: PostgresServer }> {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL };
  const server = await startEmbeddedPostgres({ dataDir: path.join(scratchDir, 'pg'), port: await freePort(), log });
  return { adminUrl: server.adminUrl, server };
}

async function startTemporal(): Promise<{ address: string; server?: TemporalServer }> {
  if (process.env.TEMPORAL_ADDRESS) return { address: process.env.TEMPORAL_ADDRESS };
  const cli = await findOrBuildTemporalCli(log);
  if (!cli) throw new Error('no Temporal CLI and no Go to build one: set TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH');
  const server = await startTemporalDevServer({ cli, port: await freePort(), uiPort: await freePort(), headless: true });
  return { address: server.address, server };
}

/** A fresh, migrated database of its own for one suite. Close it when the suite ends. */
export async function createTestDatabase(): Promise<Database & { url: string }> {
  const { adminUrl, templateDb } = infra();
  const name = `stockflow_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = await ensureDatabase(adminUrl, name, templateDb);
  return { ...connect(url, { max: 20 }), url };
}

/** Opening stock for a suite: one receipt per SKU and location, each under its own key (`seed/<sku>/<location>`). */
export async function receiveStock(database: Database, receipts: readonly (readonly [sku: string, location: string, quantity: number])[]): Promise<void> {
  for (const [sku, location, quantity] of receipts) {
    await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: `seed/${sku}/${location}`, sku, location, quantity }));
  }
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/** Starts a worker on its own task queue over the given database; stop it in `after`. */
export async function startTestWorker(
  database: Database,
  prefix = 'test',
  options: { taskQueue?: string; notifier?: NotifierConfig; fulfilment?: FulfilmentConfig; uiDecisions?: UiDecisions; alerts?: AlertRules; sourceSecrets?: SourceSecrets; counting?: CountingRules } = {},
): Promise<RunningWorker> {
  const s = infra();
  const taskQueue = options.taskQueue ?? uniqueTaskQueue(prefix);
  const worker = await createWorker({
    connection: s.nativeConnection,
    namespace: s.namespace,
    taskQueue,
    workflowBundle: s.bundle,
    db: database.db,
    notifier: options.notifier ?? { namespace: s.namespace, log: () => undefined },
    temporal: { client: s.client, taskQueue },
    fulfilment: options.fulfilment ?? { log: () => undefined },
    uiDecisions: options.uiDecisions,
    alerts: options.alerts,
    sourceSecrets: options.sourceSecrets,
    counting: options.counting,
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/** A stored principal with the role, and a fresh API token for it, as `Authorization` headers. */
export async function principalWithToken(database: Database, id: string, role: Role, ttlSeconds = 3600): Promise<{ authorization: string }> {
  await addPrincipal(database.db, { id, kind: 'user', name: id, role }, 'test-setup');
  const issued = await issueToken(database.db, id, ttlSeconds, 'test-setup');
  if (!issued) throw new Error(`principal ${id} is revoked`);
  return { authorization: `Bearer ${issued.token}` };
}

/** The service layer over a suite's database and task queue, with the default rules unless overridden. */
export function servicesFor(database: Database, taskQueue: string, overrides: Partial<Services> = {}): Services {
  return { db: database.db, checkoutDb: database.checkout, client: infra().client, taskQueue, orderWindows: orderWindowsOf(DEFAULT_CONFIG), feedRules: feedRulesOf(DEFAULT_CONFIG), importChunkSize: DEFAULT_CONFIG.STOCKFLOW_IMPORT_CHUNK_SIZE, allocation: allocationRulesOf(DEFAULT_CONFIG), cartTtlSeconds: DEFAULT_CONFIG.STOCKFLOW_CART_TTL, purchasing: purchasingRulesOf(DEFAULT_CONFIG), counting: countingRulesOf(DEFAULT_CONFIG), ...overrides };
}

export { withDatabase };

/** The `stockflow` command against a running API at `baseUrl`, as the principal of `as`; a failure is an outcome, not a throw. */
export function stockflowCli(baseUrl: string, as: { authorization: string }, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'cli', 'main.ts'), ...args, '--api', baseUrl], {
    env: { ...process.env, STOCKFLOW_API_TOKEN: as.authorization.slice('Bearer '.length) },
  }).then(
    (done) => ({ code: 0, ...done }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );
}
