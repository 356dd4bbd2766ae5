import assert from 'node:assert/strict';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { getStockLevels } from '../db/levels';
import { applyStockOperations, type BatchOperation, type BatchOutcome } from '../db/ledger-batch';
import { applyStockOperation, operationRequestHash } from '../db/stock';
import { createTestDatabase } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

/** The same operations for two places: one at a time at WH1 under `one/…`, as a batch at WH2 under `batch/…`. */
function twins(prefix: 'one' | 'batch', location: string): BatchOperation[] {
  const op = (n: number, fields: BatchOperation extends infer O ? (O extends BatchOperation ? Omit<O, 'idempotencyKey' | 'actor' | 'location'> : never) : never) =>
    ({ ...fields, idempotencyKey: `${prefix}/${n}`, actor: 'importer', location }) as BatchOperation;
  return [
    op(1, { kind: 'receive', sku: 'B-1', quantity: 10, sourceRef: 'PO-7' }),
    op(2, { kind: 'set_on_hand', sku: 'B-1', quantity: 25, sourceRef: 'feed-1' }),
    op(3, { kind: 'set_on_hand', sku: 'B-1', quantity: 25, sourceRef: 'feed-1' }),
    op(4, { kind: 'set_incoming', sku: 'B-2', quantity: 40 }),
    op(5, { kind: 'receive', sku: 'B-2', quantity: 5 }),
    op(6, { kind: 'set_on_hand', sku: 'B-NEG', quantity: -3 }),
    op(7, { kind: 'set_incoming', sku: 'B-2', quantity: 15 }),
    // Purchase orders: two open orders add up in incoming; a receipt takes what its line expected; a close never goes below zero.
    op(8, { kind: 'expect_incoming', sku: 'B-4', quantity: 10, sourceRef: 'PO-8' }),
    op(9, { kind: 'expect_incoming', sku: 'B-4', quantity: 6, sourceRef: 'PO-9' }),
    op(10, { kind: 'receive_incoming', sku: 'B-4', quantity: 12, expected: 10, sourceRef: 'PO-8' }),
    op(11, { kind: 'cancel_incoming', sku: 'B-4', quantity: 8, sourceRef: 'PO-9' }),
  ];
}

/** Rows and results of the batch at WH2 read as the one-at-a-time ones at WH1 would be. */
const asTwin = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('WH2', 'WH1').replaceAll('batch/', 'one/'));

describe('ledger batch (db)', () => {
  let database: Database;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, {
      locations: [
        { code: 'WH1', name: 'Warehouse 1' },
        { code: 'WH2', name: 'Warehouse 2' },
      ],
      items: [
        { name: 'Batched', skus: ['B-1', 'B-2', 'B-3', 'B-4', 'B-BIG', 'B-RES', 'B-WITH'] },
        { name: 'Backorderable', allowNegative: true, skus: ['B-NEG'] },
      ],
    });
  });

  after(async () => {
    await assertLedgerMatchesBalances(database);
    await database.close();
  });

  function batch(ops: BatchOperation[]): Promise<BatchOutcome[]> {
    return database.sql.begin((tx) => applyStockOperations(tx, ops));
  }

  async function ledgerRows(keyPrefix: string) {
    const like = `${keyPrefix}/%`;
    const [operations, movements, audits] = await Promise.all([
      database.sql`SELECT idempotency_key, kind, actor, result FROM stock_operations WHERE idempotency_key LIKE ${like} ORDER BY id`,
      database.sql`SELECT m.idempotency_key, m.kind, m.delta_on_hand, m.delta_reserved, m.delta_committed, m.delta_incoming, m.reason_code, m.source_ref, m.actor, l.code AS location
                   FROM stock_movements m JOIN locations l ON l.id = m.location_id WHERE m.idempotency_key LIKE ${like} ORDER BY m.id`,
      database.sql`SELECT actor, action, subject_type, subject_id, idempotency_key, details FROM audit_log WHERE idempotency_key LIKE ${like} ORDER BY id`,
    ]);
    return { operations: [...operations], movements: [...movements], audits: [...audits] };
  }

  it('records a batch exactly as the same operations applied one at a time: results, keys, movements, audit rows', async () => {
    const single = [];
    for (const op of twins('one', 'WH1')) single.push(await applyStockOperation(database.db, op));
    const batched = await batch(twins('batch', 'WH2'));

    assert.deepEqual(asTwin(batched.map((o) => ('result' in o ? o.result : o.refusal.message))), single);
    assert.deepEqual(asTwin(await ledgerRows('batch')), await ledgerRows('one'));
    const rows = await ledgerRows('batch');
    const hashes = await database.sql`SELECT request_hash FROM stock_operations WHERE idempotency_key LIKE 'batch/%' ORDER BY id`;
    assert.deepEqual(
      hashes.map((o) => o.request_hash),
      twins('batch', 'WH2').map(operationRequestHash),
      'the request hash is the canonical JSON of the operation without its actor',
    );
    assert.equal(rows.audits.length, 11, 'one audit row per operation, changed or not');
    assert.equal(rows.movements.length, 10, 'no movement for the set that changed nothing');
    assert.deepEqual(
      rows.movements.filter((m) => m.idempotency_key >= 'batch/10' && m.idempotency_key <= 'batch/11').map((m) => [m.kind, m.delta_on_hand, m.delta_incoming]),
      [
        ['receive_incoming', 12, -10],
        ['cancel_incoming', 0, -6],
      ],
      'a receipt against an order is one movement from incoming to on hand',
    );
    assert.deepEqual(
      (await getStockLevels(database.db, 'B-4'))?.locations.map((l) => [l.location, l.onHand, l.incoming]),
      [
        ['WH1', 12, 0],
        ['WH2', 12, 0],
      ],
    );
    assert.deepEqual(
      (await getStockLevels(database.db, 'B-2'))?.locations.map((l) => [l.location, l.onHand, l.incoming]),
      [
        ['WH1', 5, 15],
        ['WH2', 5, 15],
      ],
    );
  });

  it('replays a batch sent again, through either entry point, and refuses a key reused for another request', async () => {
    const before = await ledgerRows('batch');
    const again = await batch(twins('batch', 'WH2'));
    assert.ok(again.every((o) => 'result' in o && o.result.replayed));
    assert.deepEqual(
      again.map((o) => ('result' in o ? { ...o.result, replayed: false } : undefined)),
      before.operations.map((o) => o.result),
    );
    const [firstOp] = twins('batch', 'WH2');
    assert.deepEqual(await applyStockOperation(database.db, firstOp), { ...before.operations[0].result, replayed: true }, 'one operation replays what the batch recorded');
    assert.deepEqual(await ledgerRows('batch'), before, 'nothing written twice');

    const outcomes = await batch([
      { ...firstOp, quantity: 11 },
      { kind: 'receive', idempotencyKey: 'dup/1', actor: 'importer', sku: 'B-3', location: 'WH1', quantity: 4 },
      { kind: 'receive', idempotencyKey: 'dup/1', actor: 'importer', sku: 'B-3', location: 'WH1', quantity: 4 },
      { kind: 'receive', idempotencyKey: 'dup/1', actor: 'importer', sku: 'B-3', location: 'WH1', quantity: 5 },
    ]);
    assert.deepEqual(
      outcomes.map((o) => ('result' in o ? (o.result.replayed ? 'replayed' : 'applied') : o.refusal.code)),
      ['idempotency_conflict', 'applied', 'replayed', 'idempotency_conflict'],
    );
    assert.equal((await getStockLevels(database.db, 'B-3'))?.total.onHand, 4);
  });

  it('refuses one operation of a batch, writing nothing for it, and applies the others', async () => {
    const receive = (n: number, sku: string, quantity: number, location = 'WH1'): BatchOperation => ({
      kind: 'receive',
      idempotencyKey: `mixed/${n}`,
      actor: 'importer',
      sku,
      location,
      quantity,
    });
    const outcomes = await batch([
      receive(1, 'B-BIG', 1_000_000_000),
      receive(2, 'B-BIG', 1_000_000_000),
      receive(3, 'B-BIG', 1_000_000_000),
      { kind: 'set_on_hand', idempotencyKey: 'mixed/4', actor: 'importer', sku: 'B-3', location: 'WH1', quantity: -5 },
      receive(5, 'NOPE', 1),
      receive(6, 'B-3', 1, 'NOWHERE'),
      receive(7, 'B-BIG', 5),
    ]);
    assert.deepEqual(
      outcomes.map((o) => ('result' in o ? 'applied' : [o.refusal.code, o.refusal.field, o.refusal.message])),
      [
        'applied',
        'applied',
        [
          'quantity_out_of_range',
          'quantity',
          'receive: on hand of B-BIG at WH1 would be 3,000,000,000, above 2,147,483,647, the most a stock balance can hold',
        ],
        ['negative_not_allowed', 'quantity', 'on-hand of B-3 would go below 0 and the item does not allow negative stock'],
        ['unknown_sku', 'sku', 'unknown SKU "NOPE"'],
        ['unknown_location', 'location', 'unknown location "NOWHERE"'],
        'applied',
      ],
    );
    assert.equal((await getStockLevels(database.db, 'B-BIG'))?.total.onHand, 2_000_000_005);
    const claimed = await database.sql`SELECT idempotency_key FROM stock_operations WHERE idempotency_key LIKE 'mixed/%' ORDER BY id`;
    assert.deepEqual(claimed.map((r) => r.idempotency_key), ['mixed/1', 'mixed/2', 'mixed/7']);
  });

  it('reserves as the reserve statement does: result, reservation, movement and audit row; refuses in its words what does not fit', async () => {
    const reserve = (prefix: 'one' | 'batch', n: number, location: string, quantity: number): BatchOperation => ({
      kind: 'reserve',
      idempotencyKey: `${prefix}-res/${n}`,
      actor: 'checkout',
      sku: 'B-RES',
      location,
      quantity,
      orderRef: `order/${prefix}/${n}`,
      sourceRef: `order/${prefix}/${n}`,
      ttlSeconds: 600,
    });
    for (const location of ['WH1', 'WH2']) await applyStockOperation(database.db, { kind: 'receive', idempotencyKey: `res-seed/${location}`, actor: 'importer', sku: 'B-RES', location, quantity: 5 });
    const single = [await applyStockOperation(database.db, reserve('one', 1, 'WH1', 3))];
    const refusedAlone = await applyStockOperation(database.db, reserve('one', 2, 'WH1', 3)).catch((refusal: Error) => refusal.message);
    const outcomes = await batch([reserve('batch', 1, 'WH2', 3), reserve('batch', 2, 'WH2', 3)]);

    const twin = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('WH2', 'WH1').replaceAll('batch', 'one').replace(/"expiresAt":"[^"]+"/g, '"expiresAt":"…"'));
    assert.deepEqual(twin(outcomes.map((o) => ('result' in o ? o.result : o.refusal.message))), twin([...single, refusedAlone]));
    assert.match(String(refusedAlone), /^only 2 of B-RES available at WH1, 3 requested$/);
    assert.deepEqual(twin(await ledgerRows('batch-res')), twin(await ledgerRows('one-res')));
    const reservations = await database.sql`
      SELECT idempotency_key AS key, quantity, order_ref, status, (expires_at - created_at)::text AS ttl,
             to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "expiresAt"
      FROM reservations WHERE idempotency_key LIKE '%-res/%' ORDER BY id`;
    const [alone, batchedRow] = reservations.map(({ expiresAt: _, ...row }) => row);
    assert.equal(reservations.length, 2, 'one reservation each, none for the refused');
    assert.deepEqual(twin(batchedRow), alone);
    assert.equal(alone.ttl, '00:10:00');
    const batched = outcomes[0];
    assert.equal('result' in batched && batched.result.reservation?.expiresAt, reservations[1].expiresAt, 'the result carries the expiry the reservation row holds');
  });

  it('writes what the caller records from the outcomes with the batch, and rolls the batch back when that fails', async () => {
    const receipt = (key: string): BatchOperation => ({ kind: 'receive', idempotencyKey: key, actor: 'importer', sku: 'B-WITH', location: 'WH1', quantity: 4 });
    const noted = (subject: string) => database.sql`SELECT subject_id, details FROM audit_log WHERE action = 'test.alongside' AND subject_id = ${subject}`;
    const seen: BatchOutcome[][] = [];
    await database.sql.begin((tx) =>
      applyStockOperations(tx, [receipt('alongside/1')], async (outcomes) => {
        seen.push([...outcomes]);
        const onHand = 'result' in outcomes[0] ? outcomes[0].result.balances[0].onHand : undefined;
        await tx`INSERT INTO audit_log (actor, action, subject_type, subject_id, details) VALUES ('test', 'test.alongside', 'test', 'kept', ${JSON.stringify({ onHand })}::jsonb)`;
      }),
    );
    assert.equal(seen.length, 1);
    assert.deepEqual([...(await noted('kept'))].map((r) => r.details), [{ onHand: 4 }], 'written with the outcome it was handed');
    assert.equal((await getStockLevels(database.db, 'B-WITH'))?.total.onHand, 4);

    const failed = database.sql.begin((tx) =>
      applyStockOperations(tx, [receipt('alongside/2')], async () => {
        await tx`INSERT INTO audit_log (actor, action, subject_type, subject_id, details) VALUES ('test', 'test.alongside', 'test', 'lost', '{}'::jsonb)`;
        throw new Error('the caller refused the outcomes');
      }),
    );
    await assert.rejects(failed, /the caller refused the outcomes/);
    assert.equal((await noted('lost')).length, 0);
    assert.equal((await getStockLevels(database.db, 'B-WITH'))?.total.onHand, 4, 'the second receipt rolled back with it');
    assert.equal((await ledgerRows('alongside')).operations.length, 1);
  });
});
