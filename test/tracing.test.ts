import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { waitFor } from '../runtime/wait';
import { startTracing, type Tracing } from '../runtime/tracing';
import { createWorker } from '../workers/worker';
import { createTestDatabase, defaultApiSettings, infra, uniqueTaskQueue } from './harness';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** A local OTLP/HTTP receiver: accepts JSON trace exports on /v1/traces as the collector does, and keeps the spans. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ExportedSpan[]; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces' || !String(request.headers['content-type']).startsWith('application/json')) {
        response.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('OpenTelemetry traces through the Temporal interceptors', () => {
  let database: Database;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let tracing: Tracing | undefined;
  let worker: Worker;
  let running: Promise<void>;
  let api: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Traced', skus: ['T-1'] }] });
    receiver = await startOtlpReceiver();
    tracing = startTracing({ serviceName: 'stockflow-test', url: receiver.url });
    const s = infra();
    const taskQueue = uniqueTaskQueue('tracing');
    const client = new Client({ connection: s.connection, namespace: s.namespace, interceptors: { workflow: [tracing.clientInterceptor] } });
    // Bundled here, not the shared bundle: the workflow side of the tracing plugin is bundled in.
    worker = await createWorker({
      connection: s.nativeConnection,
      namespace: s.namespace,
      taskQueue,
      db: database.db,
      notifier: { namespace: s.namespace, log: () => undefined },
      temporal: { client, taskQueue },
      plugins: [tracing.plugin],
    });
    running = worker.run();
    api = await buildApi({ ...defaultApiSettings, database, client, taskQueue });
  });

  after(async () => {
    await api?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await tracing?.shutdown();
    await receiver?.close();
    await database?.close();
  });

  it('follows one upstream request into its workflow and activity, as one trace', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await api.inject({
      method: 'POST',
      url: '/v1/stock/movements',
      payload: { kind: 'receive', idempotencyKey: 'traced/in', sku: 'T-1', location: 'WH1', quantity: 2 },
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    assert.equal(response.statusCode, 200, response.body);

    const chain = ['POST /v1/stock/movements', 'StartWorkflow:stockMovement', 'RunWorkflow:stockMovement', 'StartActivity:applyStockOperation', 'RunActivity:applyStockOperation'];
    const ofTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    await waitFor(`spans ${chain.join(', ')}`, async () => (chain.every((name) => ofTrace().some((s) => s.name === name)) ? true : undefined));

    const byName = new Map(ofTrace().map((s) => [s.name, s]));
    assert.equal(byName.get(chain[0])?.parentSpanId, '00f067aa0ba902b7', "the request continues the upstream caller's trace");
    for (let i = 1; i < chain.length; i++) {
      assert.equal(byName.get(chain[i])?.parentSpanId, byName.get(chain[i - 1])?.spanId, `${chain[i]} is a child of ${chain[i - 1]}`);
    }
  });
});
