import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { applyStockOperation } from '../db/stock';
import { readCsv } from '../domain/csv';
import { StockOperation } from '../schemas/stock';
import { createTestDatabase, defaultApiSettings, infra } from './harness';

const TOKEN = 'audit-token';
const operator = { authorization: `Bearer ${TOKEN}` };

describe('audit trail export (GET /v1/audit)', () => {
  let database: Database;
  let api: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Audited', skus: ['AU-1'] }] });
    await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'audit/in', sku: 'AU-1', location: 'WH1', quantity: 4, actor: 'clerk, "night" shift' }));
    // More than two pages of a bulk actor, an hour apart from a later batch.
    await database.sql`
      INSERT INTO audit_log (at, actor, action, subject_type, subject_id, details)
      SELECT timestamptz '2026-01-01T00:00:00Z' + n * interval '1 second', 'bulk', 'test.bulk', 'thing', 'thing-' || n, jsonb_build_object('n', n)
      FROM generate_series(1, 2500) n`;
    await database.sql`
      INSERT INTO audit_log (at, actor, action, subject_type, subject_id, details)
      VALUES (timestamptz '2026-01-01T02:00:00Z', 'bulk', 'test.late', 'thing', 'late', '{}')`;
    api = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: 'audit-unused', apiToken: TOKEN });
  });

  after(async () => {
    await api?.close();
    await database?.close();
  });

  const get = (query: string) => api.inject({ method: 'GET', url: `/v1/audit${query}`, headers: operator });

  it('streams every matching entry as NDJSON, oldest first, across pages', async () => {
    const response = await get('?actor=bulk');
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^application\/x-ndjson/);
    assert.equal(response.headers['content-length'], undefined, 'streamed, not buffered');
    const entries = response.body.trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.equal(entries.length, 2501);
    assert.deepEqual(entries.map((e) => e.details.n).slice(0, 3), [1, 2, 3]);
    assert.ok(entries.every((e, i) => i === 0 || e.id > entries[i - 1].id));
    assert.equal(entries[2500].subjectId, 'late');
  });

  it('narrows by time range, subject and subject type', async () => {
    const ranged = await get(`?actor=bulk&from=${encodeURIComponent('2026-01-01T00:00:10Z')}&to=${encodeURIComponent('2026-01-01T00:00:20Z')}`);
    assert.deepEqual(
      ranged.body.trimEnd().split('\n').map((l) => JSON.parse(l).details.n),
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
    );
    const one = await get('?subjectType=stock_operation&subject=audit%2Fin');
    const [entry] = one.body.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(entry.action, 'stock.receive');
    assert.equal(entry.idempotencyKey, 'audit/in');
  });

  it('writes CSV that reads back field for field, commas and quotes included', async () => {
    const response = await get('?subject=audit%2Fin&format=csv');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/csv/);
    const table = readCsv(response.body);
    assert.deepEqual(table.header, ['id', 'at', 'actor', 'action', 'subject_type', 'subject_id', 'idempotency_key', 'details']);
    assert.equal(table.rows.length, 1);
    const [, , actor, action, , subjectId, , details] = table.rows[0].fields;
    assert.deepEqual([actor, action, subjectId], ['clerk, "night" shift', 'stock.receive', 'audit/in']);
    assert.equal(JSON.parse(details).request.quantity, 4);
  });

  it('refuses a backwards range and answers only the operator', async () => {
    const backwards = await get('?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z');
    assert.equal(backwards.statusCode, 400);
    assert.match(backwards.body, /to/);
    const nul = await get('?actor=a%00b');
    assert.equal(nul.statusCode, 400);
    assert.match(nul.body, /NUL/);
    assert.equal((await api.inject({ method: 'GET', url: '/v1/audit' })).statusCode, 401);
    const openapi = (await api.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.ok(openapi.paths['/v1/audit'] && openapi.paths['/v1/kpis']);
  });
});
