import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { signedHeaders } from '../api/auth';
import { registeredRoutes } from '../api/route';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { registerSupplier } from '../db/suppliers';
import { createTestDatabase, defaultApiSettings, infra } from './harness';

const SECRET = 'fuzz-secret';
const TOKEN = 'fuzz-token';
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const CASES = Number(process.env.FUZZ_CASES ?? 3000);

/** mulberry32: small, fast and seeded, so a failing case can be replayed with FUZZ_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  "'; DROP TABLE stock_movements; --",
  '" OR 1=1 --',
  '$(rm -rf /)',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '\u0000',
  '\uD800',
  '🧦'.repeat(50),
  'x'.repeat(10_000),
  '%s%s%s%n',
  '__proto__',
  'constructor',
  'NaN',
  '1e309',
  '-0',
  'null',
];

const HOSTILE_NUMBERS = [0, -1, 1.5, -1e9, 1e12, Number.MAX_SAFE_INTEGER, 2 ** 31, -(2 ** 31) - 1, 1e-9];

function nested(depth: number): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** A value of any JSON type, biased towards the ones that break validators. */
function hostileValue(rnd: () => number): unknown {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)];
  switch (Math.floor(rnd() * 9)) {
    case 0:
      return pick(HOSTILE_STRINGS);
    case 1:
      return pick(HOSTILE_NUMBERS);
    case 2:
      return null;
    case 3:
      return rnd() < 0.5;
    case 4:
      return [pick(HOSTILE_STRINGS), pick(HOSTILE_NUMBERS)];
    case 5:
      return { $gt: '', __proto__: { admin: true }, constructor: { prototype: { polluted: true } } };
    case 6:
      return nested(1 + Math.floor(rnd() * 500));
    case 7:
      return Array.from({ length: Math.floor(rnd() * 300) }, () => pick(HOSTILE_NUMBERS));
    default:
      return pick(['receive', 'adjust', 'transfer', 'approve', 'order.placed', 'damaged', 'W-1', 'WH1', 'alice']);
  }
}

/** A body shaped like a real one for the route, with some fields replaced, dropped or added. */
function hostileBody(rnd: () => number): unknown {
  const plausible: Record<string, unknown> = {
    kind: hostileValue(rnd),
    idempotencyKey: rnd() < 0.5 ? `fuzz-${Math.floor(rnd() * 1e9)}` : hostileValue(rnd),
    sku: rnd() < 0.5 ? 'W-1' : hostileValue(rnd),
    location: rnd() < 0.5 ? 'WH1' : hostileValue(rnd),
    quantity: hostileValue(rnd),
    delta: hostileValue(rnd),
    reasonCode: hostileValue(rnd),
    action: hostileValue(rnd),
    by: hostileValue(rnd),
    reason: hostileValue(rnd),
    type: hostileValue(rnd),
    subject: hostileValue(rnd),
    lines: hostileValue(rnd),
    owners: hostileValue(rnd),
    rules: hostileValue(rnd),
    entries: hostileValue(rnd),
  };
  for (const key of Object.keys(plausible)) if (rnd() < 0.3) delete plausible[key];
  if (rnd() < 0.2) plausible[String(hostileValue(rnd)).slice(0, 40)] = hostileValue(rnd);
  return rnd() < 0.1 ? hostileValue(rnd) : plausible;
}

/** Percent-encodes anything, a lone surrogate included (sent as the invalid UTF-8 it would be). */
function uriPart(value: unknown): string {
  const text = String(typeof value === 'object' ? JSON.stringify(value)?.slice(0, 200) : value).slice(0, 3000);
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

const WRITE_TABLES = ['stock_operations', 'stock_movements', 'stock_balances', 'reservations', 'adjustments', 'cycle_counts', 'exceptions', 'supplier_feeds', 'feed_lines', 'owners', 'ownership_rules', 'suppliers', 'supplier_sku_map'];

describe('hostile input', () => {
  let database: Database;
  let app: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Widget', skus: ['W-1'] }] });
    await registerSupplier(database.db, { id: 'acme', name: 'Acme', location: 'WH1' });
    // No worker serves this task queue and no request waits for a workflow: only the door is tested.
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: 'fuzz-no-worker', webhookSecret: SECRET, apiToken: TOKEN, workflowWaitMs: 0, feedBodyLimitBytes: 512 * 1024 });
  });

  after(async () => {
    await app?.close();
    await database?.close();
  });

  async function writeCounts(): Promise<Record<string, number>> {
    const [row] = await database.sql.unsafe(`SELECT ${WRITE_TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
    return row as Record<string, number>;
  }

  function concretePath(url: string, rnd: () => number): string {
    return url.replace(/:(\w+)/g, () => uriPart(rnd() < 0.5 ? hostileValue(rnd) : 'W-1'));
  }

  it(`answers ${CASES} seeded hostile requests (seed ${SEED}) with a 4xx naming the problem: never a 5xx, never a partial write`, async () => {
    const rnd = random(SEED);
    const routes = registeredRoutes(app).filter((r) => r.method !== 'GET' || r.url.includes(':') || r.query);
    assert.ok(routes.length >= 8, `expected the API's routes, found ${routes.length}`);
    const statuses = new Map<string, number>();
    const failures: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const route = routes[Math.floor(rnd() * routes.length)];
      const url = concretePath(route.url, rnd) + (rnd() < 0.3 ? `?${uriPart(hostileValue(rnd)).slice(0, 50)}=${uriPart(hostileValue(rnd)).slice(0, 50)}` : '');
      const body = route.method === 'GET' ? undefined : rnd() < 0.1 ? '{"unterminated": [' : JSON.stringify(hostileBody(rnd));
      const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
      if (body !== undefined) {
        headers['content-type'] = route.url.endsWith('/feeds') && rnd() < 0.3 ? 'text/csv' : 'application/json';
        Object.assign(headers, signedHeaders(SECRET, body));
      }
      const before = await writeCounts();
      const response = await app.inject({ method: route.method, url, headers, payload: body } as InjectOptions);
      const tally = `${route.method === 'GET' ? 'read' : 'write'} ${response.statusCode}`;
      statuses.set(tally, (statuses.get(tally) ?? 0) + 1);
      const where = `case ${i} (seed ${SEED}): ${route.method} ${url.slice(0, 120)} → ${response.statusCode}`;
      if (response.statusCode >= 500) {
        failures.push(`${where}: ${response.body.slice(0, 300)}`);
        continue;
      }
      if (response.statusCode >= 400) {
        const payload = response.json() as { error?: unknown; message?: unknown };
        if (typeof payload.error !== 'string' || typeof payload.message !== 'string' || payload.message.length === 0) {
          failures.push(`${where}: a 4xx without error and message: ${response.body.slice(0, 200)}`);
        }
        const after = await writeCounts();
        if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${where}: refused but wrote ${JSON.stringify({ before, after })}`);
      }
    }
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} bad answers`);
    const writes = [...statuses].filter(([tally]) => tally.startsWith('write'));
    const accepted = writes.filter(([tally]) => !/ 4\d\d$/.test(tally)).reduce((n, [, count]) => n + count, 0);
    const refused = writes.filter(([tally]) => / 4\d\d$/.test(tally)).reduce((n, [, count]) => n + count, 0);
    assert.ok(refused > 0 && accepted / (accepted + refused) < 0.02, `hostile writes must be refused: ${JSON.stringify([...statuses])}`);
  });

  it('refuses oversized, wrongly typed and deeply nested bodies with the status that says why', async () => {
    const huge = JSON.stringify({ kind: 'receive', idempotencyKey: 'k', sku: 'W-1', location: 'WH1', quantity: 1, note: 'x'.repeat(2 * 1024 * 1024) });
    const tooBig = await app.inject({ method: 'POST', url: '/v1/stock/movements', headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, huge) }, payload: huge });
    assert.equal(tooBig.statusCode, 413);
    const xml = '<movement/>';
    const wrongType = await app.inject({ method: 'POST', url: '/v1/stock/movements', headers: { 'content-type': 'application/xml', ...signedHeaders(SECRET, xml) }, payload: xml });
    assert.equal(wrongType.statusCode, 415);
    // Built as text: deeper than JSON.stringify (or JSON.parse) can recurse.
    const deep = `${'{"a":['.repeat(100_000)}1${']}'.repeat(100_000)}`;
    const deepResponse = await app.inject({ method: 'POST', url: '/v1/stock/movements', headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, deep) }, payload: deep });
    assert.equal(deepResponse.statusCode, 400);
    assert.match(deepResponse.json().message, /kind: must be one of/);
    const nestedResponse = await app.inject({ method: 'POST', url: '/v1/stock/movements', headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, JSON.stringify(nested(400))) }, payload: JSON.stringify(nested(400)) });
    assert.equal(nestedResponse.statusCode, 400);
    assert.match(nestedResponse.json().message, /kind: must be one of/);
  });

  it('refuses text Postgres cannot store (NUL bytes, lone surrogates) as bad input, not a server error', async () => {
    const cases: [string, string, unknown][] = [
      ['PUT', '/v1/suppliers/acme', { name: 'Acme\u0000', location: 'WH1' }],
      ['PUT', '/v1/suppliers/acme', { name: 'Acme \uD800', location: 'WH1' }],
      ['POST', '/v1/exceptions', { type: 'fuzz', subject: 'nul', summary: 'bad\u0000text', source: 'fuzz' }],
      ['PUT', '/v1/ownership', { owners: [{ id: 'a', name: 'A\u0000', contact: 'a' }], rules: [{ owner: 'a', backup: 'a', escalation: 'a', ackSla: 60, resolutionSla: 60 }] }],
    ];
    for (const [method, url, body] of cases) {
      const payload = JSON.stringify(body);
      const response = await app.inject({ method: method as 'PUT', url, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...signedHeaders(SECRET, payload) }, payload });
      assert.equal(response.statusCode, 400, `${method} ${url}: ${response.body}`);
      assert.match(response.json().message, /must not contain NUL bytes or unpaired surrogates/);
    }
  });

  it('answers every unsigned or wrongly signed webhook and every missing or wrong token with 401, and audits each', async () => {
    const [{ n: before }] = await database.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'api.unauthorized'`;
    const upstream = registeredRoutes(app).filter((r) => r.access === 'upstream');
    const operator = registeredRoutes(app).filter((r) => r.access === 'operator');
    let refusals = 0;
    for (const route of upstream) {
      const body = JSON.stringify({ kind: 'receive' });
      for (const headers of [{}, signedHeaders('wrong-secret', body), { ...signedHeaders(SECRET, body), 'x-stockflow-timestamp': '1' }]) {
        const response = await app.inject({ method: route.method, url: route.url.replace(/:(\w+)/g, 'acme'), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers }, payload: body });
        assert.equal(response.statusCode, 401, `${route.method} ${route.url}: ${response.body}`);
        refusals += 1;
      }
    }
    for (const route of operator) {
      for (const authorization of [undefined, 'Bearer wrong', 'Basic abc']) {
        const response = await app.inject({ method: route.method, url: route.url.replace(/:(\w+)/g, '1'), headers: authorization ? { authorization } : {} });
        assert.equal(response.statusCode, 401, `${route.method} ${route.url}: ${response.body}`);
        refusals += 1;
      }
    }
    const [{ n: after }] = await database.sql`SELECT count(*)::int AS n FROM audit_log WHERE action = 'api.unauthorized'`;
    assert.equal(after - before, refusals);
  });
});
