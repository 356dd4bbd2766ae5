import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { serveMetrics } from '../runtime/metrics-server';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, type RunningWorker } from './harness';

/** The value of one sample in Prometheus exposition text, 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('Prometheus metrics', () => {
  let database: Database;
  let worker: RunningWorker;
  let api: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Counted', skus: ['M-1'] }] });
    worker = await startTestWorker(database, 'metrics');
    api = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue });
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await database?.close();
  });

  const scrape = async () => {
    const response = await api.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    return response.body;
  };
  const move = (body: object) => api.inject({ method: 'POST', url: '/v1/stock/movements', payload: body, headers: { 'content-type': 'application/json' } });

  it('counts movements applied by kind and refusals by reason once their transaction committed, and times requests', async () => {
    const before = await scrape();
    const applied = await move({ kind: 'receive', idempotencyKey: 'metrics/in', sku: 'M-1', location: 'WH1', quantity: 3 });
    assert.equal(applied.statusCode, 200, applied.body);
    const refused = await move({ kind: 'issue', idempotencyKey: 'metrics/out', sku: 'M-1', location: 'WH1', quantity: 5 });
    assert.equal(refused.statusCode, 409, refused.body);
    const replay = await move({ kind: 'receive', idempotencyKey: 'metrics/in', sku: 'M-1', location: 'WH1', quantity: 3 });
    assert.equal(replay.statusCode, 200, replay.body);

    const after = await scrape();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    assert.equal(delta('stockflow_movements_applied_total{kind="receive"}'), 1, 'the replay is not a second movement');
    assert.equal(delta(`stockflow_refusals_total{code="${refused.json().error}"}`), 1);
    assert.ok(delta('stockflow_http_request_duration_seconds_count{method="POST",route="/v1/stock/movements",status="200"}') >= 2);
  });

  it("appends the Temporal SDK's own metrics, and serves the same on a worker's endpoint", async () => {
    const text = await scrape();
    assert.match(text, /^# TYPE stockflow_feed_lines_total counter$/m);
    assert.match(text, /^temporal_\w+/m, 'Core metrics of this process');
    const served = await serveMetrics('127.0.0.1', 0);
    try {
      const response = await fetch(served.url);
      assert.equal(response.status, 200);
      const body = await response.text();
      assert.match(body, /^stockflow_movements_applied_total\{kind="receive"\} \d+$/m);
      assert.match(body, /^temporal_\w+/m);
      assert.equal((await fetch(served.url.replace('/metrics', '/other'))).status, 404);
    } finally {
      await served.close();
    }
  });
});
