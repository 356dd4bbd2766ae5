import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { signedHeaders } from '../api/auth';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, type RunningWorker } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';
import { waitFor } from '../runtime/wait';

const SECRET = 'test-webhook-secret';
const TOKEN = 'test-operator-token';
const operator = { authorization: `Bearer ${TOKEN}` };

function signed(body: unknown): { payload: string; headers: Record<string, string> } {
  const payload = JSON.stringify(body);
  return { payload, headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, payload) } };
}

async function countRows(database: Database, table: 'stock_movements' | 'stock_operations' | 'audit_log'): Promise<number> {
  const [row] = await database.sql`SELECT count(*)::int AS n FROM ${database.sql(table)}`;
  return row.n;
}

describe('HTTP API', () => {
  let database: Database;
  let worker: RunningWorker;
  let app: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, {
      locations: [
        { code: 'WH1', name: 'Warehouse 1' },
        { code: 'WH2', name: 'Warehouse 2' },
      ],
      items: [{ name: 'Gadget', skus: ['G-1', 'G-2'] }],
    });
    worker = await startTestWorker(database, 'api');
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, webhookSecret: SECRET, apiToken: TOKEN });
  });

  after(async () => {
    await app?.close();
    await worker?.stop();
    await assertLedgerMatchesBalances(database);
    await database.close();
  });

  it('reports health of Postgres and Temporal', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok', postgres: 'ok', temporal: 'ok' });
  });

  it('applies a posted receipt through its workflow and shows it in GET /v1/stock/:sku', async () => {
    const body = { kind: 'receive', idempotencyKey: 'po-1001/line-1', sku: 'G-1', location: 'WH1', quantity: 25, sourceRef: 'PO-1001' };
    const response = await app.inject({ method: 'POST', url: '/v1/stock/movements', ...signed(body) });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().workflowId, 'movement/po-1001/line-1');
    assert.equal(response.json().result.replayed, false);

    const handle = infra().client.workflow.getHandle('movement/po-1001/line-1');
    assert.equal((await handle.describe()).status.name, 'COMPLETED');

    const stock = await app.inject({ method: 'GET', url: '/v1/stock/G-1', headers: operator });
    assert.equal(stock.statusCode, 200);
    assert.deepEqual(stock.json().total, { onHand: 25, reserved: 0, committed: 0, incoming: 0, available: 25 });
    assert.deepEqual(stock.json().locations.map((l: { location: string }) => l.location), ['WH1']);
  });

  it('answers 202 when asked not to wait, and the movement lands once the workflow completes', async () => {
    const body = { kind: 'receive', idempotencyKey: 'po-1002/line-1', sku: 'G-2', location: 'WH2', quantity: 3 };
    const response = await app.inject({ method: 'POST', url: '/v1/stock/movements?wait=0', ...signed(body) });
    assert.equal(response.statusCode, 202, response.body);
    assert.equal(response.json().status, 'running');
    const total = await waitFor('the receipt to land', async () => {
      const stock = await app.inject({ method: 'GET', url: '/v1/stock/G-2', headers: operator });
      return stock.json().total.onHand === 3 ? stock.json().total : undefined;
    });
    assert.equal(total.available, 3);
  });

  it('starts one workflow and one movement for a request sent twice', async () => {
    const body = { kind: 'receive', idempotencyKey: 'po-1001/line-1', sku: 'G-1', location: 'WH1', quantity: 25, sourceRef: 'PO-1001' };
    const again = await app.inject({ method: 'POST', url: '/v1/stock/movements', ...signed(body) });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().result.replayed, false, 'the first run answers again; nothing re-applied');
    const movements = await database.sql`SELECT count(*)::int AS n FROM stock_movements WHERE idempotency_key = 'po-1001/line-1'`;
    assert.equal(movements[0].n, 1);
    const runs = await infra().client.workflow.count(`WorkflowId = 'movement/po-1001/line-1'`);
    assert.equal(runs.count, 1);
  });

  it('refuses a key reused for a different request with 409', async () => {
    const body = { kind: 'receive', idempotencyKey: 'po-1001/line-1', sku: 'G-1', location: 'WH1', quantity: 999 };
    const response = await app.inject({ method: 'POST', url: '/v1/stock/movements', ...signed(body) });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json().error, 'idempotency_conflict');
    assert.deepEqual(response.json().issues, [{ field: 'idempotencyKey', reason: '"po-1001/line-1" was already used for a different request' }]);
  });

  it('answers a business refusal from the workflow with 409 and the reason', async () => {
    const body = { kind: 'issue', idempotencyKey: 'sample-1', sku: 'G-2', location: 'WH2', quantity: 50 };
    const response = await app.inject({ method: 'POST', url: '/v1/stock/movements', ...signed(body) });
    assert.equal(response.statusCode, 409, response.body);
    assert.equal(response.json().error, 'insufficient_stock');
    assert.match(response.json().message, /quantity: only 3 of G-2 available at WH2, 50 requested/);
  });

  describe('bad input: 400 naming the field, nothing written', () => {
    const cases: { name: string; body: unknown; field: string; reason: RegExp }[] = [
      { name: 'missing quantity', body: { kind: 'receive', idempotencyKey: 'k1', sku: 'G-1', location: 'WH1' }, field: 'quantity', reason: /number/ },
      { name: 'negative quantity', body: { kind: 'receive', idempotencyKey: 'k2', sku: 'G-1', location: 'WH1', quantity: -4 }, field: 'quantity', reason: /greater than 0/ },
      { name: 'fractional quantity', body: { kind: 'receive', idempotencyKey: 'k3', sku: 'G-1', location: 'WH1', quantity: 1.5 }, field: 'quantity', reason: /whole number/ },
      { name: 'quantity as a string', body: { kind: 'receive', idempotencyKey: 'k4', sku: 'G-1', location: 'WH1', quantity: '5' }, field: 'quantity', reason: /number/ },
      { name: 'unknown kind', body: { kind: 'teleport', idempotencyKey: 'k5', sku: 'G-1', location: 'WH1', quantity: 1 }, field: 'kind', reason: /must be one of/ },
      { name: 'adjustment without a reason code', body: { kind: 'adjust', idempotencyKey: 'k6', sku: 'G-1', location: 'WH1', delta: -1 }, field: 'reasonCode', reason: /must be one of/ },
      { name: 'missing idempotency key', body: { kind: 'receive', sku: 'G-1', location: 'WH1', quantity: 1 }, field: 'idempotencyKey', reason: /string/ },
      { name: 'transfer to the same place', body: { kind: 'transfer', idempotencyKey: 'k7', sku: 'G-1', from: 'WH1', to: 'WH1', quantity: 1 }, field: 'to', reason: /must differ/ },
      { name: 'unknown SKU', body: { kind: 'receive', idempotencyKey: 'k8', sku: 'NOPE-1', location: 'WH1', quantity: 1 }, field: 'sku', reason: /unknown SKU "NOPE-1"/ },
      { name: 'unknown location', body: { kind: 'receive', idempotencyKey: 'k9', sku: 'G-1', location: 'MOON', quantity: 1 }, field: 'location', reason: /unknown location "MOON"/ },
      { name: 'a body that is not an object', body: [1, 2, 3], field: '(body)', reason: /must be a JSON object/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const before = await countRows(database, 'stock_operations');
        const response = await app.inject({ method: 'POST', url: '/v1/stock/movements', ...signed(c.body) });
        assert.equal(response.statusCode, 400, response.body);
        const issue = response.json().issues.find((i: { field: string }) => i.field === c.field);
        assert.ok(issue, `expected an issue for ${c.field}, got ${response.body}`);
        assert.match(issue.reason, c.reason);
        assert.equal(await countRows(database, 'stock_operations'), before);
      });
    }

    it('malformed JSON', async () => {
      const payload = '{"kind": "receive",';
      const response = await app.inject({ method: 'POST', url: '/v1/stock/movements', payload, headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, payload) } });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error, 'invalid_json');
    });

    it('an invalid SKU in the path', async () => {
      const response = await app.inject({ method: 'GET', url: '/v1/stock/%20bad%20sku', headers: operator });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().issues[0].field, 'sku');
    });
  });

  it('answers 404 for an unknown SKU', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/stock/NOPE-2', headers: operator });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error, 'unknown_sku');
  });

  describe('signatures and tokens', () => {
    const body = { kind: 'receive', idempotencyKey: 'sig-1', sku: 'G-1', location: 'WH1', quantity: 1 };

    it('refuses an unsigned webhook with 401, writes nothing and audits it', async () => {
      const audits = await countRows(database, 'audit_log');
      const response = await app.inject({ method: 'POST', url: '/v1/stock/movements', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      assert.equal(response.statusCode, 401);
      assert.match(response.json().message, /missing x-stockflow-signature/);
      assert.equal(await countRows(database, 'audit_log'), audits + 1);
      const claims = await database.sql`SELECT count(*)::int AS n FROM stock_operations WHERE idempotency_key = 'sig-1'`;
      assert.equal(claims[0].n, 0);
    });

    it('refuses a body that does not match its signature', async () => {
      const { headers } = signed(body);
      const tampered = JSON.stringify({ ...body, quantity: 1000 });
      const response = await app.inject({ method: 'POST', url: '/v1/stock/movements', payload: tampered, headers });
      assert.equal(response.statusCode, 401);
      assert.match(response.json().message, /signature does not match/);
    });

    it('refuses a signature made with another secret or too long ago', async () => {
      const payload = JSON.stringify(body);
      const wrongSecret = await app.inject({ method: 'POST', url: '/v1/stock/movements', payload, headers: { 'content-type': 'application/json', ...signedHeaders('other', payload) } });
      assert.equal(wrongSecret.statusCode, 401);
      const stale = await app.inject({ method: 'POST', url: '/v1/stock/movements', payload, headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, payload, Date.now() - 3_600_000) } });
      assert.equal(stale.statusCode, 401);
      assert.match(stale.json().message, /away from the server clock/);
    });

    it('refuses operator endpoints without the right token', async () => {
      const none = await app.inject({ method: 'GET', url: '/v1/stock/G-1' });
      assert.equal(none.statusCode, 401);
      assert.match(none.json().message, /missing Authorization/);
      const wrong = await app.inject({ method: 'GET', url: '/v1/stock/G-1', headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.statusCode, 401);
      const audited = await database.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'api.unauthorized' AND subject_id = 'GET /v1/stock/:sku'`;
      assert.equal(audited[0].n, 2);
    });
  });

  it('serves an OpenAPI document generated from the zod schemas', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const doc = response.json();
    assert.equal(doc.openapi, '3.0.3');
    const post = doc.paths['/v1/stock/movements'].post;
    const kinds = post.requestBody.content['application/json'].schema.oneOf.map((s: { properties: { kind: { const?: string; enum?: string[] } } }) => s.properties.kind.const ?? s.properties.kind.enum?.[0]);
    assert.deepEqual(kinds, ['receive', 'issue', 'adjust', 'transfer', 'set_incoming', 'cycle_count', 'resolve_count_flag']);
    assert.deepEqual(doc.paths['/v1/stock/{sku}'].get.security, [{ bearerToken: [] }]);
  });
});
