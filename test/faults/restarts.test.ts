import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { decideException, exceptionState, raiseException } from '../../services/exceptions';
import { submitFeed } from '../../services/feeds';
import { startStockMovement } from '../../services/stock-movement';
import { addToCatalogue } from '../../db/catalogue';
import { connect, type Database } from '../../db/connection';
import { mapSupplierSkus, registerSupplier } from '../../db/suppliers';
import { getStockLevels } from '../../db/levels';
import { runMigrations } from '../../db/migrate';
import { replaceOwnership } from '../../db/ownership';
import { ensureDatabase, startEmbeddedPostgres, type PostgresServer } from '../../runtime/postgres';
import { findOrBuildTemporalCli } from '../../runtime/temporal-cli';
import { startTemporalDevServer, type TemporalServer } from '../../runtime/temporal-server';
import { freePort, waitFor } from '../../runtime/wait';
import { RaiseException } from '../../schemas/exceptions';
import { StockOperation } from '../../schemas/stock';
import { feedProgressQuery } from '../../workflows/supplier-feed-ingest';
import { createWorker } from '../../workers/worker';
import { createTestDatabase, infra, servicesFor, uniqueTaskQueue } from '../harness';
import { assertLedgerMatchesBalances } from '../ledger-assertions';
import { spawnWorker, type WorkerProcess } from './processes';
import { DEFAULT_CONFIG, feedRulesOf } from '../../schemas/config';

async function seed(database: Database): Promise<void> {
  await addToCatalogue(database.db, {
    locations: [
      { code: 'WH1', name: 'Warehouse 1' },
      { code: 'DS', name: 'Drop-ship' },
    ],
    items: [{ name: 'Fed', skus: Array.from({ length: 100 }, (_, i) => `K-${i}`) }, { name: 'Received', skus: ['R-1'] }],
  });
  await registerSupplier(database.db, { id: 'acme', name: 'Acme', location: 'DS' });
  await mapSupplierSkus(database.db, 'acme', Array.from({ length: 100 }, (_, i) => ({ supplierSku: `AK-${i}`, sku: `K-${i}` })));
  await replaceOwnership(database.db, {
    owners: [
      { id: 'alice', name: 'Alice', contact: 'alice@example.com' },
      { id: 'bob', name: 'Bob', contact: 'bob@example.com' },
      { id: 'carol', name: 'Carol', contact: 'carol@example.com' },
    ],
    rules: [{ owner: 'alice', backup: 'bob', escalation: 'carol', ackSla: 5, resolutionSla: '1h' }],
  });
}

function receipts(client: Client, taskQueue: string, count: number): Promise<WorkflowHandle[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startStockMovement(client, taskQueue, StockOperation.parse({ kind: 'receive', idempotencyKey: `restart/receive/${i}`, sku: 'R-1', location: 'WH1', quantity: 1 })),
    ),
  );
}

function feedLines(count: number) {
  return Array.from({ length: count }, (_, i) => ({ sku: `AK-${i % 100}`, quantity: ((i * 3) % 30) + 1, sequence: Math.floor(i / 100) + 1 }));
}

async function assertWaveExact(database: Database, lines: ReturnType<typeof feedLines>, movements: number): Promise<void> {
  assert.equal((await getStockLevels(database.db, 'R-1'))?.total.onHand, movements);
  const [{ n: recorded }] = await database.sql`SELECT count(*)::int AS n FROM feed_lines`;
  assert.equal(recorded, lines.length);
  const [{ n: duplicates }] = await database.sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM stock_movements GROUP BY idempotency_key, variant_id, location_id HAVING count(*) > 1) d`;
  assert.equal(duplicates, 0);
  const last = new Map<string, number>();
  for (const line of lines) last.set(`K-${line.sku.slice(3)}`, line.quantity);
  for (const [sku, quantity] of last) assert.equal((await getStockLevels(database.db, sku))?.total.onHand, quantity, sku);
  await assertLedgerMatchesBalances(database);
}

describe('fault: Postgres restarts in the middle of a wave', () => {
  it('retries the activities and completes every flow exactly once', async () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'stockflow-pg-restart-'));
    const port = await freePort();
    let postgres: PostgresServer | undefined = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'pg'), port });
    const databaseUrl = await ensureDatabase(postgres.adminUrl, 'restart');
    const database = connect(databaseUrl, { max: 4 });
    const taskQueue = uniqueTaskQueue('pg-restart');
    let worker: WorkerProcess | undefined;
    try {
      await runMigrations(database);
      await seed(database);
      // A worker process, as in production: its connections are the ones Postgres drops.
      worker = await spawnWorker({ temporalAddress: infra().temporalAddress, databaseUrl, taskQueue });
      const lines = feedLines(5000);
      const feed = await submitFeed(servicesFor(database, taskQueue, { feedRules: { ...feedRulesOf(DEFAULT_CONFIG), chunkSize: 250 } }), { supplierId: 'acme', format: 'json', body: JSON.stringify({ feedId: 'pg-wave', lines }) });
      const movements = await receipts(infra().client, taskQueue, 200);
      const feedHandle = infra().client.workflow.getHandle(feed.workflowId);
      await waitFor('the feed to be under way', async () => (((await feedHandle.query(feedProgressQuery).catch(() => undefined))?.nextLine ?? 0) > 500 ? true : undefined), { timeoutMs: 120_000 });

      await postgres.stop();
      postgres = undefined;
      // Downtime on purpose: activities fail against the missing database and are retried.
      await delay(3000);
      postgres = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'pg'), port });

      await feedHandle.result();
      await Promise.all(movements.map((m) => m.result()));
      assert.equal(worker.child.exitCode, null, `the worker survived the restart:\n${worker.output().slice(-2000)}`);
      await assertWaveExact(database, lines, 200);
    } finally {
      await worker?.kill('SIGTERM');
      await database.close();
      await postgres?.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('fault: the Temporal server restarts while exceptions wait on SLA timers', () => {
  it('fires the timers after the restart and completes every flow', async () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'stockflow-temporal-restart-'));
    const cli = await findOrBuildTemporalCli(() => undefined);
    assert.ok(cli, 'a Temporal CLI');
    const options = { cli, port: await freePort(), uiPort: await freePort(), headless: true, dbFile: path.join(scratch, 'temporal.db') };
    let temporal: TemporalServer | undefined = await startTemporalDevServer(options);
    const database = await createTestDatabase();
    const taskQueue = uniqueTaskQueue('temporal-restart');
    const nativeConnection = await NativeConnection.connect({ address: temporal.address });
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    let worker: Worker | undefined;
    let running: Promise<void> | undefined;
    try {
      await seed(database);
      worker = await createWorker({ connection: nativeConnection, namespace: 'default', taskQueue, workflowBundle: infra().bundle, db: database.db, temporal: { client, taskQueue }, notifier: { namespace: 'default', log: () => undefined } });
      running = worker.run();
      const raised = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          raiseException({ client, taskQueue }, RaiseException.parse({ type: 'restart_check', subject: `sku-${i}`, summary: 'waits across a server restart', source: 'fault-test' })),
        ),
      );
      await Promise.all(raised.map((h) => waitFor('the exception to open', () => exceptionState(client, h.workflowId).catch(() => undefined))));
      const movements = await receipts(client, taskQueue, 100);
      const lines = feedLines(2000);
      const feed = await submitFeed(servicesFor(database, taskQueue, { client, feedRules: { ...feedRulesOf(DEFAULT_CONFIG), chunkSize: 200 } }), { supplierId: 'acme', format: 'json', body: JSON.stringify({ feedId: 'temporal-wave', lines }) });

      await temporal.stop();
      temporal = undefined;
      // Downtime on purpose, shorter than the 5 s acknowledgement SLA the exceptions wait on.
      await delay(1500);
      temporal = await startTemporalDevServer(options);

      for (const handle of raised) {
        const state = await waitFor('the escalation after the restart', async () => {
          const s = await exceptionState(client, handle.workflowId).catch(() => undefined);
          return s && s.escalationLevel >= 1 ? s : undefined;
        }, { timeoutMs: 120_000 });
        assert.equal(state.assigneeId === 'bob' || state.assigneeId === 'carol', true);
      }
      const escalations = await database.sql`
        SELECT extract(epoch FROM e.at - x.opened_at)::float AS after_seconds FROM exception_events e JOIN exceptions x ON x.id = e.exception_id
        WHERE e.action = 'escalate' AND e.seq = 10001`;
      assert.equal(escalations.length, 5);
      for (const e of escalations) assert.ok(e.after_seconds >= 5, `escalated after ${e.after_seconds}s, SLA 5s`);
      for (const handle of raised) {
        const decided = await decideException({ db: database.db, client }, handle.workflowId, { action: 'reject', by: 'carol', reason: 'fault test done' });
        assert.equal(decided.accepted, true);
        await handle.result();
      }
      await client.workflow.getHandle(feed.workflowId).result();
      await Promise.all(movements.map((m) => m.result()));
      await assertWaveExact(database, lines, 100);
    } finally {
      worker?.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
      await database.close();
      await temporal?.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
