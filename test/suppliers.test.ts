import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { createTestDatabase, defaultApiSettings, infra, principalWithToken, uniqueTaskQueue } from './harness';

const TOKEN = 'suppliers-token';
const CLI = path.join(__dirname, '..', 'cli', 'main.ts');

/** Archiving is a soft delete: the supplier's history stays, new work for it is refused until it is restored. */
describe('suppliers: archive and restore', () => {
  let database: Database;
  let app: FastifyInstance;
  let baseUrl: string;
  let operator: { authorization: string };

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, { locations: [{ code: 'DS', name: 'Drop-ship' }], items: [{ name: 'Item', skus: ['S-1'] }] });
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: uniqueTaskQueue('suppliers'), apiToken: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    operator = await principalWithToken(database, 'ops', 'operator');
    const put = await app.inject({ method: 'PUT', url: '/v1/suppliers/oldco', headers: operator, payload: { name: 'Old Co', location: 'DS' } });
    assert.equal(put.statusCode, 200, put.body);
  });

  after(async () => {
    await app?.close();
    await database?.close();
  });

  /** The `stockflow` command a person runs, against this suite's API. */
  function stockflow(...args: string[]) {
    return promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args, '--api', baseUrl], {
      env: { ...process.env, STOCKFLOW_API_TOKEN: operator.authorization.slice('Bearer '.length) },
    }).then(
      (done) => ({ code: 0, ...done }),
      (failed: { code: number; stdout: string; stderr: string }) => failed,
    );
  }

  const feed = (feedId: string) =>
    app.inject({ method: 'POST', url: '/v1/suppliers/oldco/feeds', headers: { 'content-type': 'application/json' }, payload: { feedId, lines: [{ sku: 'X', quantity: 1, sequence: 1 }] } });

  it('archives from the CLI, audited with who and why, and refuses new feeds, mappings and edits while archived', async () => {
    const archived = await stockflow('suppliers', 'archive', 'oldco', '--reason', 'registered by mistake');
    assert.equal(archived.stdout.trim(), 'oldco archived');
    const again = await stockflow('suppliers', 'archive', 'oldco', '--reason', 'twice');
    assert.equal(again.stdout.trim(), 'oldco was already archived: nothing changed');

    const refusedFeed = await feed('after-archive');
    assert.equal(refusedFeed.statusCode, 409, refusedFeed.body);
    assert.equal(refusedFeed.json().error, 'supplier_archived');
    assert.match(refusedFeed.json().message, /^supplierId: supplier "oldco" was archived at .*; restore it to use it again$/);
    const refusedMap = await app.inject({ method: 'PUT', url: '/v1/suppliers/oldco/sku-map', headers: operator, payload: { entries: [{ supplierSku: 'X', sku: 'S-1' }] } });
    assert.equal(refusedMap.statusCode, 409, refusedMap.body);
    const refusedEdit = await app.inject({ method: 'PUT', url: '/v1/suppliers/oldco', headers: operator, payload: { name: 'Renamed', location: 'DS' } });
    assert.equal(refusedEdit.statusCode, 409, refusedEdit.body);

    const [supplier] = await database.sql`SELECT name, archived_at IS NOT NULL AS archived FROM suppliers WHERE id = 'oldco'`;
    assert.deepEqual({ ...supplier }, { name: 'Old Co', archived: true });
    const feeds = await database.sql`SELECT count(*)::int AS n FROM supplier_feeds WHERE supplier_id = 'oldco'`;
    assert.equal(feeds[0].n, 0);
    const audit = await database.sql`SELECT actor, action, details->>'reason' AS reason FROM audit_log WHERE subject_type = 'supplier' AND subject_id = 'oldco' ORDER BY id`;
    assert.deepEqual(audit.map((a) => ({ ...a })), [{ actor: 'ops', action: 'supplier.archived', reason: 'registered by mistake' }]);
  });

  it('restores from the CLI, after which the supplier takes feeds again', async () => {
    const restored = await stockflow('suppliers', 'restore', 'oldco', '--reason', 'back in business');
    assert.equal(restored.stdout.trim(), 'oldco restored');
    const accepted = await feed('after-restore');
    assert.equal(accepted.statusCode, 202, accepted.body);
  });

  it('says which supplier is unknown, from the API and the CLI', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/suppliers/nobody/archive', headers: operator, payload: { reason: 'typo' } });
    assert.equal(response.statusCode, 404, response.body);
    assert.equal(response.json().message, 'supplierId: unknown supplier "nobody"');
    const cli = await stockflow('suppliers', 'archive', 'nobody', '--reason', 'typo');
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /error 404: supplierId: unknown supplier "nobody"/);
  });
});
