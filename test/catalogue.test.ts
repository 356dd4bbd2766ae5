import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCatalogueImportActivities, type ImportCheck } from '../activities/catalogue-import';
import { addToCatalogue } from '../db/catalogue';
import { storeImport } from '../db/catalogue-import';
import type { Database } from '../db/connection';
import { applyStockOperation } from '../db/stock';
import { waitFor } from '../runtime/wait';
import { StockOperation } from '../schemas/stock';
import { catalogueImportProgressQuery } from '../workflows/catalogue-import';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, type RunningWorker } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

const TOKEN = 'catalogue-token';
const operator = { authorization: `Bearer ${TOKEN}` };
const FIXTURES = path.join(__dirname, 'fixtures', 'catalogue');
const CLI = path.join(__dirname, '..', 'cli', 'main.ts');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('catalogue: items, locations, imports and stock views', () => {
  let database: Database;
  let worker: RunningWorker;
  let app: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    // An existing location under the name the Shopify inventory export uses, in another case.
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Main warehouse' }], items: [] });
    worker = await startTestWorker(database, 'catalogue');
    app = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue, apiToken: TOKEN, importChunkSize: 3 });
  });

  after(async () => {
    await app?.close();
    await worker?.stop();
    await assertLedgerMatchesBalances(database);
    await database?.close();
  });

  const get = (url: string) => app.inject({ method: 'GET', url, headers: operator });
  const send = (method: 'POST' | 'PUT', url: string, payload: unknown) => app.inject({ method, url, headers: operator, payload: payload as object });

  function submit(body: string, query: string, contentType = 'text/csv') {
    return app.inject({ method: 'POST', url: `/v1/catalogue/imports?${query}`, headers: { ...operator, 'content-type': contentType }, payload: body });
  }

  /** Sends an import and follows it to its end through GET /v1/catalogue/imports/:id. */
  async function imported(body: string, query: string, contentType = 'text/csv') {
    const response = await submit(body, query, contentType);
    assert.equal(response.statusCode, 202, response.body);
    const { importId } = response.json();
    await infra().client.workflow.getHandle(response.json().workflowId).result();
    const status = await get(`/v1/catalogue/imports/${importId}`);
    assert.equal(status.statusCode, 200, status.body);
    return status.json();
  }

  async function onHand(sku: string, location: string): Promise<number | undefined> {
    const [row] = await database.sql<{ onHand: number }[]>`
      SELECT b.on_hand AS "onHand" FROM stock_balances b JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id
      WHERE v.sku = ${sku} AND l.code = ${location}`;
    return row?.onHand;
  }

  const movementsOf = async (sourceRef: string) =>
    (await database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM stock_movements WHERE source_ref = ${sourceRef}`)[0].n;

  it('imports a Shopify product export: variants per handle, options, prices and costs, image rows skipped', async () => {
    const report = await imported(fixture('shopify-products.csv'), 'format=shopify-products&currency=EUR&importId=shopify-products-1');
    assert.equal(report.status, 'applied');
    assert.deepEqual(report.report.problems, []);
    assert.deepEqual(report.report.skippedRows.map((r: { row: number }) => r.row), [6, 7]);
    assert.ok(report.report.ignoredColumns.includes('Body (HTML)'));
    assert.ok(!report.report.ignoredColumns.includes('Variant SKU'));
    assert.equal(report.report.applied.variants, 5);

    const runner = await get('/v1/variants/TR-44-SND');
    assert.equal(runner.statusCode, 200, runner.body);
    assert.deepEqual(
      { options: runner.json().options, price: runner.json().price, cost: runner.json().cost, currency: runner.json().currency, barcode: runner.json().barcode, itemName: runner.json().itemName },
      { options: { Size: '44', Colour: 'Sand' }, price: 125, cost: 50, currency: 'EUR', barcode: '4006381333955', itemName: 'Trail Runner' },
    );
    const beanie = (await get('/v1/variants/BEANIE-GRY')).json();
    assert.deepEqual(beanie.options, {}, '"Default Title" is no option');
    assert.equal(beanie.allowNegative, true, 'Variant Inventory Policy continue: the item may be oversold');
    assert.equal((await get('/v1/variants/WRAP-1')).json().cost, null);
    const items = (await get('/v1/items?tag=shoes')).json();
    assert.deepEqual(items.items.map((i: { handle: string; variantCount: number; vendor: string }) => [i.handle, i.variantCount, i.vendor]), [['trail-runner', 3, 'Peak Gear']]);
  });

  it('reads the 2025 column names of the product export the same way', async () => {
    const report = await imported(fixture('shopify-products-2025.csv'), 'format=shopify-products&currency=EUR');
    assert.equal(report.status, 'applied', JSON.stringify(report.report.problems));
    assert.deepEqual(report.report.skippedRows.map((r: { row: number }) => r.row), [5]);
    const bottle = (await get('/v1/variants/BTL-1000-BLK')).json();
    assert.deepEqual([bottle.options, bottle.price, bottle.cost, bottle.allowNegative], [{ Size: '1 l', Colour: 'Black' }, 34.9, 13.25, true]);
  });

  it('imports a Shopify inventory export as opening balances in the ledger, matching locations by name', async () => {
    const report = await imported(fixture('shopify-inventory.csv'), 'format=shopify-inventory&importId=shopify-inventory-1');
    assert.equal(report.status, 'applied', JSON.stringify(report.report.problems));
    assert.deepEqual(report.report.locationCodes, { 'MAIN-WAREHOUSE': 'WH1' });
    assert.deepEqual(report.report.skippedRows.map((r: { row: number }) => r.row), [5, 11], 'not stocked rows');
    assert.equal(await onHand('TR-42-BLK', 'WH1'), 30);
    assert.equal(await onHand('TR-42-BLK', 'SHOP-LOCATION'), 6, 'On hand (new) wins over On hand (current)');
    assert.equal(await onHand('TR-43-BLK', 'SHOP-LOCATION'), undefined);
    assert.equal(await onHand('BEANIE-GRY', 'SHOP-LOCATION'), -2);
    assert.equal((await get('/v1/locations/SHOP-LOCATION')).json().name, 'Shop location');
    const reasons = await database.sql<{ reason: string; n: number }[]>`
      SELECT reason_code AS reason, count(*)::int AS n FROM stock_movements WHERE source_ref = 'shopify-inventory-1' GROUP BY reason_code`;
    assert.deepEqual(reasons.map((r) => ({ ...r })), [{ reason: 'opening_balance', n: 7 }], 'a zero opening balance moves nothing');
    await assertLedgerMatchesBalances(database);
  });

  const BAD_CSV = [
    'record,code,name,location_kind,handle,title,tags,sku,price,cost,currency,location,on_hand,colour_code',
    'location,STORE2,City store 2,store,,,,,,,,,,x',
    'variant,,,,mug,Mug,"kitchen, gifts",MUG-1,12.50,4,EUR,,,',
    'variant,,,,mug,Mug,,MUG-2,twelve,4,EUR,,,',
    'variant,,,,mug,Mug,,MUG-1,12.50,4,EUR,,,',
    'location,,No code,warehouse,,,,,,,,,,',
    'balance,,,,,,,MUG-1,,,,STORE2,8,',
    'balance,,,,,,,MUG-2,,,,STORE2,3,',
    'balance,,,,,,,MUG-1,,,,NOWHERE,1,',
    'balance,,,,,,,MUG-1,,,,WH1,-4,',
    'kit,,,,,,,,,,,,,',
  ].join('\n');

  it('refuses a file with bad rows whole, naming every row, column and reason', async () => {
    const report = await imported(BAD_CSV, 'importId=bad-1');
    assert.equal(report.status, 'refused');
    assert.equal(report.report.refused, true);
    assert.deepEqual(
      report.report.problems.map((p: { row: number; column: string }) => [p.row, p.column]),
      [
        [4, 'price'],
        [5, 'sku'],
        [6, 'code'],
        [8, 'sku'],
        [9, 'location'],
        [10, 'onHand'],
        [11, 'record'],
      ],
    );
    assert.match(report.report.problems[1].reason, /SKU MUG-1 is already on row 3/);
    assert.match(report.report.problems[3].reason, /unknown SKU "MUG-2"/);
    assert.deepEqual(report.report.ignoredColumns, ['colour_code']);
    assert.equal((await get('/v1/variants/MUG-1')).statusCode, 404, 'nothing applied');
    assert.equal((await get('/v1/locations/STORE2')).statusCode, 404, 'nothing applied');
  });

  it('with skipInvalid applies the good rows once and reports the rest; the same import again starts nothing', async () => {
    const report = await imported(BAD_CSV, 'importId=bad-2&skipInvalid=true');
    assert.equal(report.status, 'applied');
    assert.equal(report.report.problems.length, 7);
    assert.deepEqual(report.report.applied, { locations: 1, suppliers: 0, items: 1, variants: 1, prices: 1, supplierVariants: 0, balances: 1, refused: 0 });
    assert.equal(await onHand('MUG-1', 'STORE2'), 8);
    assert.equal((await get('/v1/locations/STORE2')).json().kind, 'store');
    assert.deepEqual((await get('/v1/variants/MUG-1')).json().prices.length, 1);

    const again = await submit(BAD_CSV, 'importId=bad-2&skipInvalid=true');
    assert.equal(again.statusCode, 202);
    assert.equal(again.json().new, false);
    const conflict = await submit(`${BAD_CSV}\n`, 'importId=bad-2&skipInvalid=true');
    assert.equal(conflict.statusCode, 409, conflict.body);
    assert.equal(conflict.json().error, 'import_conflict');
    const otherOptions = await submit(BAD_CSV, 'importId=bad-2');
    assert.equal(otherOptions.statusCode, 409, 'the same id with other options is a conflict too');
    assert.equal(await movementsOf('bad-2'), 1);
  });

  it('applies an import sent many times at once exactly once', async () => {
    const doc = {
      importId: 'concurrent-1',
      locations: [{ code: 'DS1', name: 'Drop-ship 1', kind: 'drop_ship', channels: ['shopify', 'amazon'] }],
      items: [{ handle: 'candle', name: 'Candle', tags: ['home'], variants: Array.from({ length: 7 }, (_, n) => ({ sku: `CANDLE-${n}`, price: 10 + n, cost: 3, currency: 'EUR', options: { Scent: `s${n}` } })) }],
      suppliers: [{ id: 'waxco', name: 'Wax Co', location: 'DS1', leadTimeDays: 21, moq: 50, packSize: 10, currency: 'EUR', variants: [{ sku: 'CANDLE-0', cost: 2.75 }] }],
      balances: Array.from({ length: 7 }, (_, n) => ({ sku: `CANDLE-${n}`, location: 'DS1', onHand: 10 * n + 1 })),
      shelfLife: '1y',
    };
    const body = JSON.stringify(doc);
    const answers = await Promise.all(Array.from({ length: 6 }, () => submit(body, '', 'application/json')));
    assert.deepEqual(new Set(answers.map((a) => a.statusCode)), new Set([202]));
    assert.equal(answers.filter((a) => a.json().new).length, 1);
    assert.equal(new Set(answers.map((a) => a.json().workflowId)).size, 1);
    const handle = infra().client.workflow.getHandle(answers[0].json().workflowId);
    const result = await handle.result();
    assert.equal(result.phase, 'applied');
    assert.equal(result.chunks, Math.ceil(16 / 3), 'chunks of 3 records');
    assert.deepEqual((await handle.query(catalogueImportProgressQuery)).chunksDone, result.chunks);
    assert.equal(await movementsOf('concurrent-1'), 7);
    assert.equal(await onHand('CANDLE-6', 'DS1'), 61);
    const status = (await get('/v1/catalogue/imports/concurrent-1')).json();
    assert.deepEqual(status.report.ignoredColumns, ['shelfLife']);
    const supplier = (await get('/v1/suppliers/waxco')).json();
    assert.deepEqual([supplier.leadTimeDays, supplier.moq, supplier.packSize, supplier.variants], [21, 50, 10, [{ sku: 'CANDLE-0', cost: 2.75, currency: null }]]);
    assert.deepEqual((await get('/v1/locations/DS1')).json().channels, ['shopify', 'amazon']);
    await assertLedgerMatchesBalances(database);
  });

  it('keeps price and cost history: a change appends, the past stays', async () => {
    const created = await send('POST', '/v1/items', { handle: 'lamp', name: 'Lamp', tags: ['home', 'light'], variants: [{ sku: 'LAMP-1', price: 40, cost: 15, currency: 'EUR' }] });
    assert.equal(created.statusCode, 201, created.body);
    const changed = await send('PUT', '/v1/variants/LAMP-1', { cost: 17.5 });
    assert.equal(changed.statusCode, 200, changed.body);
    const lamp = (await get('/v1/variants/LAMP-1')).json();
    assert.deepEqual([lamp.price, lamp.cost], [40, 17.5]);
    assert.deepEqual(lamp.prices.map((p: { price: number; cost: number }) => [p.price, p.cost]), [[40, 17.5], [40, 15]]);
    await assert.rejects(database.sql`UPDATE variant_prices SET cost = 1`, /append-only/);
    const renamed = await send('PUT', `/v1/items/${created.json().id}`, { name: 'Desk lamp' });
    assert.equal(renamed.json().name, 'Desk lamp');
    const dup = await send('POST', `/v1/items/${created.json().id}/variants`, { sku: 'LAMP-1' });
    assert.equal(dup.statusCode, 409);
  });

  it('refuses to archive stock that is still there, and an archived SKU refuses reservations but keeps its history', async () => {
    const by = { reason: 'discontinued' };
    const refused = await send('POST', '/v1/variants/TR-42-BLK/archive', by);
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().error, 'archive_has_stock');
    assert.match(refused.json().message, /TR-42-BLK at SHOP-LOCATION: on hand 6, reserved 0, committed 0/);
    const itemId = (await get('/v1/variants/TR-42-BLK')).json().itemId;
    assert.equal((await send('POST', `/v1/items/${itemId}/archive`, by)).json().error, 'archive_has_stock');

    const history = await movementsOf('shopify-inventory-1');
    await applyStockOperation(database.db, StockOperation.parse({ kind: 'set_on_hand', idempotencyKey: 'wind-down/44', sku: 'TR-44-SND', location: 'SHOP-LOCATION', quantity: 0, reasonCode: 'opening_balance' }));
    const archived = await send('POST', '/v1/variants/TR-44-SND/archive', by);
    assert.equal(archived.statusCode, 200, archived.body);
    assert.equal(archived.json().changed, true);
    await assert.rejects(
      applyStockOperation(database.db, StockOperation.parse({ kind: 'reserve', idempotencyKey: 'after-archive/1', sku: 'TR-44-SND', location: 'WH1', quantity: 1 })),
      (error: { code?: string }) => error.code === 'sku_archived',
    );
    assert.equal(await movementsOf('shopify-inventory-1'), history, 'history stays');
    assert.equal((await get('/v1/variants?archived=true')).json().items.map((v: { sku: string }) => v.sku).join(), 'TR-44-SND');
    assert.equal((await get('/v1/stock/TR-44-SND')).statusCode, 200);

    assert.equal((await send('POST', '/v1/variants/TR-44-SND/restore', by)).json().changed, true);
    await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'after-restore/receive', sku: 'TR-44-SND', location: 'WH1', quantity: 2 }));
    const reserved = await applyStockOperation(database.db, StockOperation.parse({ kind: 'reserve', idempotencyKey: 'after-restore/1', sku: 'TR-44-SND', location: 'WH1', quantity: 1 }));
    assert.equal(reserved.reservation?.status, 'active');
  });

  it('refuses new reservations at an archived location, even of an item that may go negative, until it is restored', async () => {
    await addToCatalogue(database.db, { locations: [{ code: 'POPUP', name: 'Summer pop-up' }], items: [{ name: 'Made to order', allowNegative: true, skus: ['MTO-POP'] }] });
    const by = { reason: 'the pop-up closed' };
    assert.equal((await send('POST', '/v1/locations/POPUP/archive', by)).json().changed, true);
    const reserve = (n: number) => applyStockOperation(database.db, StockOperation.parse({ kind: 'reserve', idempotencyKey: `popup/${n}`, sku: 'MTO-POP', location: 'POPUP', quantity: 2 }));
    await assert.rejects(reserve(1), (error: { code?: string; message?: string }) => error.code === 'location_archived' && /POPUP is archived/.test(error.message ?? ''));
    assert.equal((await send('POST', '/v1/locations/POPUP/restore', by)).json().changed, true);
    await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'popup/stocked', sku: 'MTO-POP', location: 'POPUP', quantity: 2 }));
    assert.equal((await reserve(2)).reservation?.status, 'active');
  });

  it('lists balances a page at a time with filters', async () => {
    const all: { sku: string; location: string }[] = [];
    for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
      const response = await get(`/v1/stock?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(response.statusCode, 200, response.body);
      all.push(...response.json().items);
      cursor = response.json().nextCursor;
    }
    const [{ n }] = await database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM stock_balances`;
    assert.equal(all.length, n);
    assert.equal(new Set(all.map((b) => `${b.sku}@${b.location}`)).size, n, 'no balance twice');

    const negative = (await get('/v1/stock?negative=true')).json().items;
    assert.deepEqual(negative.map((b: { sku: string; location: string }) => `${b.sku}@${b.location}`), ['BEANIE-GRY@SHOP-LOCATION']);
    const prefix = (await get('/v1/stock?skuPrefix=TR-4&location=WH1')).json().items;
    assert.deepEqual(prefix.map((b: { sku: string }) => b.sku), ['TR-42-BLK', 'TR-43-BLK', 'TR-44-SND']);
    const low = (await get('/v1/stock?availableAtMost=5&tag=shoes')).json().items;
    assert.ok(low.every((b: { available: number; sku: string }) => b.available <= 5 && b.sku.startsWith('TR-')));
    assert.ok(low.length > 0);
    assert.equal((await get('/v1/stock?cursor=nope')).statusCode, 404);
  });

  it('answers the buckets as of an instant exactly as a replay of the ledger does', async () => {
    const op = (n: number, fields: Record<string, unknown>) => StockOperation.parse({ idempotencyKey: `asof/${n}`, sku: 'LAMP-1', location: 'WH1', ...fields });
    const ops = [
      op(1, { kind: 'receive', quantity: 20 }),
      op(2, { kind: 'reserve', quantity: 3 }),
      op(3, { kind: 'set_incoming', quantity: 12 }),
      op(4, { kind: 'commit', reservationKey: 'asof/2', sku: undefined, location: undefined }),
      op(5, { kind: 'adjust', delta: -2, reasonCode: 'damaged' }),
      op(6, { kind: 'ship', reservationKey: 'asof/2', sku: undefined, location: undefined }),
      op(7, { kind: 'receive', quantity: 5, location: 'STORE2' }),
    ];
    for (const o of ops) await applyStockOperation(database.db, o);
    const movements = await database.sql<{ location: string; at: string; onHand: number; reserved: number; committed: number; incoming: number }[]>`
      SELECT l.code AS location, (extract(epoch FROM m.created_at) * 1000000)::bigint::text AS at,
             m.delta_on_hand AS "onHand", m.delta_reserved AS reserved, m.delta_committed AS committed, m.delta_incoming AS incoming
      FROM stock_movements m JOIN variants v ON v.id = m.variant_id JOIN locations l ON l.id = m.location_id
      WHERE v.sku = 'LAMP-1' ORDER BY m.id`;
    const first = Number(BigInt(movements[0].at) / 1000n) - 5;
    const last = Number(BigInt(movements[movements.length - 1].at) / 1000n) + 5;
    const instants = [first, last, ...movements.map((m) => Number(BigInt(m.at) / 1000n)), ...Array.from({ length: 12 }, () => first + Math.floor(Math.random() * (last - first)))];
    for (const instant of instants) {
      const replayed = new Map<string, { onHand: number; reserved: number; committed: number; incoming: number }>();
      for (const m of movements.filter((mv) => BigInt(mv.at) <= BigInt(instant) * 1000n)) {
        const b = replayed.get(m.location) ?? { onHand: 0, reserved: 0, committed: 0, incoming: 0 };
        replayed.set(m.location, { onHand: b.onHand + m.onHand, reserved: b.reserved + m.reserved, committed: b.committed + m.committed, incoming: b.incoming + m.incoming });
      }
      const expected = [...replayed.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([location, b]) => ({ location, ...b, available: b.onHand - b.reserved - b.committed }));
      const asOf = new Date(instant).toISOString();
      const answer = await get(`/v1/stock/LAMP-1?asOf=${encodeURIComponent(asOf)}`);
      assert.equal(answer.statusCode, 200, answer.body);
      assert.deepEqual(answer.json().locations, expected, `as of ${asOf}`);
    }
    const now = (await get(`/v1/stock/LAMP-1?asOf=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}`)).json();
    const current = (await get('/v1/stock/LAMP-1')).json();
    assert.deepEqual(now.total, current.total, 'as of now is the balance');
    assert.equal((await get('/v1/stock/LAMP-1?asOf=yesterday')).statusCode, 400);
  });

  it('follows a running import through the progress query and GET', async () => {
    const rows = ['record,handle,title,sku,location,on_hand'];
    for (let n = 0; n < 60; n++) rows.push(`variant,bulk,Bulk,BULK-${n},,`, `balance,,,BULK-${n},WH1,${n}`);
    const response = await submit(rows.join('\n'), 'importId=progress-1');
    const workflowId = response.json().workflowId;
    const seen = await waitFor('progress while applying or done', async () => {
      const status = (await get('/v1/catalogue/imports/progress-1')).json();
      return status.progress?.chunksDone > 0 || status.status === 'applied' ? status : undefined;
    });
    assert.ok(seen.status === 'applied' || seen.progress.chunks === 40);
    const done = await infra().client.workflow.getHandle(workflowId).result();
    assert.deepEqual([done.chunks, done.chunksDone, done.applied.variants, done.applied.balances], [40, 40, 60, 60]);
    assert.equal((await get('/v1/catalogue/imports/progress-1')).json().status, 'applied');
    assert.equal((await get('/v1/catalogue/imports/none')).statusCode, 404);
  });

  it('stages the checked records per chunk, keeps none once applied, and applies an import checked before records were staged', async () => {
    const stagedRows = async (importPk?: number) => {
      const [{ rows }] = await database.sql<{ rows: number }[]>`
        SELECT count(*)::int AS rows FROM catalogue_import_staged ${importPk === undefined ? database.sql`` : database.sql`WHERE import_pk = ${importPk}`}`;
      return rows;
    };
    assert.equal(await stagedRows(), 0, 'applied imports keep no staged records');

    const body = ['record,handle,title,sku,location,on_hand', 'variant,legacy,Legacy,LEG-1,,', 'balance,,,LEG-1,WH1,7', 'variant,legacy,Legacy,LEG-2,,', 'balance,,,LEG-2,WH1,3'].join('\n');
    const stored = await storeImport(database.db, { importId: 'legacy-1', format: 'stockflow-csv', body, options: { skipInvalid: false, currency: 'EUR' }, workflowIdFor: (id) => `test/${id}` });
    const activities = createCatalogueImportActivities(database.db);
    const env = new MockActivityEnvironment();
    const check: ImportCheck = await env.run(activities.checkCatalogueImport, { importPk: stored.importPk, chunkSize: 2 });
    assert.deepEqual([check.valid, check.refused, await stagedRows(stored.importPk)], [4, false, 2]);
    // As a worker of the earlier version left it: checked, nothing staged.
    await database.sql`DELETE FROM catalogue_import_staged WHERE import_pk = ${stored.importPk}`;
    for (const [chunkNo, from] of [[0, 0], [1, 2]]) await env.run(activities.applyCatalogueImportChunk, { importPk: stored.importPk, chunkNo, from, to: from + 2 });
    await env.run(activities.finishCatalogueImport, { importPk: stored.importPk, applied: { locations: 0, suppliers: 0, items: 1, variants: 2, prices: 0, supplierVariants: 0, balances: 2, refused: 0 } });
    assert.deepEqual([await onHand('LEG-1', 'WH1'), await onHand('LEG-2', 'WH1'), await stagedRows(stored.importPk)], [7, 3, 0]);
  });

  it('reads a stored file in pieces, a character split between two pieces read whole', async () => {
    const title = (n: number) => `${'倉庫'.repeat(50)} ${n}`;
    // Empty columns at the header's end move the first piece's end (64 KB, db/catalogue-import.ts) into a character of three bytes.
    const file = (shift: number) => {
      const rows = [`record,handle,title,sku,location,on_hand${','.repeat(shift)}`];
      for (let n = 0; n < 300; n++) rows.push(`variant,wide-${n},${title(n)},WIDE-${n},,`);
      return rows.join('\n');
    };
    const splitsAt = (body: string) => (Buffer.from(body)[65536] & 0xc0) === 0x80;
    const body = [0, 1, 2].map(file).find(splitsAt);
    assert.ok(body, 'a character across the first piece end');
    const stored = await storeImport(database.db, { importId: 'wide-1', format: 'stockflow-csv', body, options: { skipInvalid: false, currency: 'EUR' }, workflowIdFor: (id) => `test/${id}` });
    const activities = createCatalogueImportActivities(database.db);
    const env = new MockActivityEnvironment();
    const check: ImportCheck = await env.run(activities.checkCatalogueImport, { importPk: stored.importPk, chunkSize: 100 });
    assert.deepEqual([check.rows, check.valid, check.problems], [300, 300, 0]);
    const staged = await database.sql<{ records: { itemName: string }[] }[]>`SELECT records FROM catalogue_import_staged WHERE import_pk = ${stored.importPk} ORDER BY chunk_no`;
    assert.deepEqual(
      staged.flatMap((chunk) => chunk.records.map((r) => r.itemName)),
      Array.from({ length: 300 }, (_, n) => title(n)),
    );
    await database.sql`DELETE FROM catalogue_import_staged WHERE import_pk = ${stored.importPk}`;
  });

  it('imports from the CLI and lists and shows items, locations and suppliers', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const stockflow = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args, '--api', baseUrl], { env: { ...process.env, STOCKFLOW_API_TOKEN: TOKEN } }).then(
        (done) => ({ code: 0, ...done }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'catalogue-cli-'));
    const file = path.join(dir, 'catalogue.csv');
    writeFileSync(file, BAD_CSV);
    const refused = await stockflow('catalogue', 'import', file, '--import-id', 'cli-refused');
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /cli-refused: refused/);
    assert.match(refused.stdout, /line 4, price: must be a number/);
    const applied = await stockflow('catalogue', 'import', file, '--import-id', 'cli-1', '--skip-invalid');
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /cli-1: applied/);
    assert.match(applied.stdout, /ignored columns: colour_code/);

    const items = await stockflow('items', 'list', '--tag', 'kitchen');
    assert.match(items.stdout, /\tmug\tMug\t1 variant\(s\)/);
    const location = await stockflow('locations', 'show', 'STORE2');
    assert.equal(JSON.parse(location.stdout).kind, 'store');
    const suppliers = await stockflow('suppliers', 'list', '--location', 'DS1');
    assert.match(suppliers.stdout, /^waxco\tWax Co\tDS1\tlead time 21 d, MOQ 50/);
    const missing = await stockflow('suppliers', 'show', 'nobody');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error 404: supplierId: no supplier "nobody"/);
    rmSync(dir, { recursive: true, force: true });
  });
});
