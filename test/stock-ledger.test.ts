import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/connection';
import { addToCatalogue } from '../db/catalogue';
import { StockRefusal } from '../db/errors';
import { getStockLevels } from '../db/levels';
import { applyStockOperation } from '../db/stock';
import { StockOperation, type StockOperationInput } from '../schemas/stock';
import { createTestDatabase } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

function apply(database: Database, input: StockOperationInput) {
  return applyStockOperation(database.db, StockOperation.parse(input));
}

async function refusalCode(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof StockRefusal) return error.code;
    throw error;
  }
  assert.fail('expected a refusal');
}

describe('stock ledger (db)', () => {
  let database: Database;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, {
      locations: [
        { code: 'WH1', name: 'Warehouse 1' },
        { code: 'WH2', name: 'Warehouse 2' },
      ],
      items: [
        { name: 'Widget', skus: ['W-1', 'W-2', 'W-HOT', 'W-IDEM', 'W-COUNT', 'W-TRANSFER', 'W-LIFE', 'W-NEG', 'W-TIE'] },
        { name: 'Made to order', allowNegative: true, skus: ['MTO-1'] },
      ],
    });
  });

  after(async () => {
    await assertLedgerMatchesBalances(database);
    await database.close();
  });

  it('receives stock and reports the five buckets', async () => {
    const result = await apply(database, { kind: 'receive', idempotencyKey: 'rcv-1', sku: 'W-1', location: 'WH1', quantity: 40 });
    assert.equal(result.replayed, false);
    assert.equal(result.movements, 1);
    assert.deepEqual(result.balances[0], {
      sku: 'W-1',
      location: 'WH1',
      onHand: 40,
      reserved: 0,
      committed: 0,
      incoming: 0,
      available: 40,
      countStatus: 'ok',
    });
  });

  it('applies the same key twice as one movement and returns the first result', async () => {
    const op = { kind: 'receive', idempotencyKey: 'idem-seq', sku: 'W-IDEM', location: 'WH1', quantity: 5 } as const;
    const first = await apply(database, op);
    const second = await apply(database, op);
    assert.equal(second.replayed, true);
    assert.deepEqual({ ...second, replayed: false }, first);
    const movements = await database.sql`SELECT count(*)::int AS n FROM stock_movements WHERE idempotency_key = 'idem-seq'`;
    assert.equal(movements[0].n, 1);
  });

  it('applies the same key sent 50 times concurrently exactly once', async () => {
    const op = { kind: 'receive', idempotencyKey: 'idem-concurrent', sku: 'W-IDEM', location: 'WH1', quantity: 7 } as const;
    const results = await Promise.all(Array.from({ length: 50 }, () => apply(database, op)));
    assert.equal(results.filter((r) => !r.replayed).length, 1);
    const movements = await database.sql`SELECT count(*)::int AS n FROM stock_movements WHERE idempotency_key = 'idem-concurrent'`;
    assert.equal(movements[0].n, 1);
    const levels = await getStockLevels(database.db, 'W-IDEM');
    assert.equal(levels?.total.onHand, 12);
  });

  it('refuses a reused key with a different request and changes nothing', async () => {
    const code = await refusalCode(
      apply(database, { kind: 'receive', idempotencyKey: 'idem-seq', sku: 'W-IDEM', location: 'WH1', quantity: 500 }),
    );
    assert.equal(code, 'idempotency_conflict');
    assert.equal((await getStockLevels(database.db, 'W-IDEM'))?.total.onHand, 12);
  });

  it('lets exactly 100 of 500 concurrent reservations through for 100 available units', async () => {
    await apply(database, { kind: 'receive', idempotencyKey: 'hot-stock', sku: 'W-HOT', location: 'WH1', quantity: 100 });
    const attempts = Array.from({ length: 500 }, (_, i) =>
      apply(database, { kind: 'reserve', idempotencyKey: `hot-res-${i}`, sku: 'W-HOT', location: 'WH1', quantity: 1 }).then(
        () => 'reserved',
        (error: unknown) => (error instanceof StockRefusal ? error.code : Promise.reject(error)),
      ),
    );
    const outcomes = await Promise.all(attempts);
    assert.equal(outcomes.filter((o) => o === 'reserved').length, 100);
    assert.equal(outcomes.filter((o) => o === 'insufficient_stock').length, 400);
    const levels = await getStockLevels(database.db, 'W-HOT');
    assert.deepEqual(levels?.total, { onHand: 100, reserved: 100, committed: 0, incoming: 0, available: 0 });
    const negatives = await database.sql`
      SELECT count(*)::int AS n FROM stock_balances
      WHERE on_hand < 0 OR reserved < 0 OR committed < 0 OR incoming < 0 OR available < 0`;
    assert.equal(negatives[0].n, 0);
    const active = await database.sql`SELECT coalesce(sum(quantity), 0)::int AS q FROM reservations WHERE status = 'active' AND idempotency_key LIKE 'hot-res-%'`;
    assert.equal(active[0].q, 100);
  });

  it('runs a reservation through commit and ship, and refuses to settle it twice', async () => {
    await apply(database, { kind: 'receive', idempotencyKey: 'life-rcv', sku: 'W-LIFE', location: 'WH1', quantity: 10 });
    await apply(database, { kind: 'reserve', idempotencyKey: 'life-res', sku: 'W-LIFE', location: 'WH1', quantity: 4 });
    await apply(database, { kind: 'commit', idempotencyKey: 'life-commit', reservationKey: 'life-res' });
    const shipped = await apply(database, { kind: 'ship', idempotencyKey: 'life-ship', reservationKey: 'life-res' });
    assert.equal(shipped.reservation?.status, 'issued');
    assert.deepEqual((await getStockLevels(database.db, 'W-LIFE'))?.total, {
      onHand: 6,
      reserved: 0,
      committed: 0,
      incoming: 0,
      available: 6,
    });
    assert.equal(
      await refusalCode(apply(database, { kind: 'release', idempotencyKey: 'life-release', reservationKey: 'life-res' })),
      'reservation_not_active',
    );
    assert.equal(
      await refusalCode(apply(database, { kind: 'commit', idempotencyKey: 'life-x', reservationKey: 'never-made' })),
      'unknown_reservation',
    );
  });

  it('unpicks committed stock back to available when picking stops', async () => {
    await apply(database, { kind: 'reserve', idempotencyKey: 'life-res-3', sku: 'W-LIFE', location: 'WH1', quantity: 2 });
    await apply(database, { kind: 'commit', idempotencyKey: 'life-commit-3', reservationKey: 'life-res-3' });
    const unpicked = await apply(database, { kind: 'unpick', idempotencyKey: 'life-unpick-3', reservationKey: 'life-res-3' });
    assert.equal(unpicked.reservation?.status, 'released');
    assert.deepEqual((await getStockLevels(database.db, 'W-LIFE'))?.total, { onHand: 6, reserved: 0, committed: 0, incoming: 0, available: 6 });
    assert.equal(
      await refusalCode(apply(database, { kind: 'unpick', idempotencyKey: 'life-unpick-4', reservationKey: 'life-res-3' })),
      'reservation_not_committed',
    );
  });

  it('releases a reservation back to available, once, under concurrent release attempts', async () => {
    await apply(database, { kind: 'reserve', idempotencyKey: 'life-res-2', sku: 'W-LIFE', location: 'WH1', quantity: 5 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        apply(database, { kind: 'release', idempotencyKey: `life-rel-${i}`, reservationKey: 'life-res-2' }),
      ),
    );
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    assert.equal((await getStockLevels(database.db, 'W-LIFE'))?.total.available, 6);
  });

  it('transfers between locations and refuses to move more than is available', async () => {
    await apply(database, { kind: 'receive', idempotencyKey: 'tr-rcv', sku: 'W-TRANSFER', location: 'WH1', quantity: 10 });
    const moved = await apply(database, { kind: 'transfer', idempotencyKey: 'tr-1', sku: 'W-TRANSFER', from: 'WH1', to: 'WH2', quantity: 4 });
    assert.equal(moved.movements, 2);
    const levels = await getStockLevels(database.db, 'W-TRANSFER');
    assert.deepEqual(
      levels?.locations.map((l) => [l.location, l.onHand]),
      [
        ['WH1', 6],
        ['WH2', 4],
      ],
    );
    assert.equal(
      await refusalCode(apply(database, { kind: 'transfer', idempotencyKey: 'tr-2', sku: 'W-TRANSFER', from: 'WH2', to: 'WH1', quantity: 5 })),
      'insufficient_stock',
    );
  });

  it('opens a stockout period when on hand reaches 0 and closes it when stock comes back', async () => {
    const move = (kind: 'receive' | 'issue', quantity: number, n: number) => apply(database, { kind, idempotencyKey: `stockout-${n}`, sku: 'W-2', location: 'WH2', quantity });
    const periods = () => database.sql<{ open: boolean }[]>`
      SELECT p.ended_at IS NULL AS open FROM stockout_periods p JOIN variants v ON v.id = p.variant_id JOIN locations l ON l.id = p.location_id
      WHERE v.sku = 'W-2' AND l.code = 'WH2' ORDER BY p.started_at`;
    await move('receive', 5, 1);
    assert.deepEqual((await periods()).map((p) => p.open), [], 'stocked for the first time: never out of stock');
    await move('issue', 5, 2);
    assert.deepEqual((await periods()).map((p) => p.open), [true]);
    await move('receive', 2, 3);
    await move('issue', 1, 4);
    assert.deepEqual((await periods()).map((p) => p.open), [false], 'still in stock: no new period');
    await move('issue', 1, 5);
    assert.deepEqual((await periods()).map((p) => p.open), [false, true]);
  });

  it('keeps the stockout periods the ledger tells while transactions race across 0 on one balance', async () => {
    await apply(database, { kind: 'receive', idempotencyKey: 'race0/seed', sku: 'W-HOT', location: 'WH2', quantity: 1 });
    for (let round = 0; round < 8; round++) {
      await Promise.allSettled(
        Array.from({ length: 24 }, (_, n) =>
          apply(database, { kind: n % 2 === 0 ? 'issue' : 'receive', idempotencyKey: `race0/${round}/${n}`, sku: 'W-HOT', location: 'WH2', quantity: 1 }),
        ),
      );
    }
    // On hand stays at 0 or 1, so every issue that went through took it across 0 (whether a period
    // is kept depends on which transaction started first, which the race decides).
    const [{ crossings }] = await database.sql<{ crossings: number }[]>`
      SELECT count(*)::int AS crossings FROM stock_movements WHERE idempotency_key LIKE 'race0/%' AND delta_on_hand < 0`;
    assert.ok(crossings > 0, 'the balance went out of stock');
    await assertLedgerMatchesBalances(database);
  });

  it('tells apart, in the ledger, two transactions on one balance that started in the same instant', async () => {
    // Six transactions on one balance, in the order they held its row lock; the last started at
    // the same microsecond as the third (two backends can read the clock at once). Written as the
    // ledger would have them, then rolled back: the view alone is under test.
    const history: [number, string][] = [
      [1, '2026-01-01T00:00:00.000001Z'],
      [-1, '2026-01-01T00:00:00.000010Z'],
      [1, '2026-01-01T00:00:00.000005Z'],
      [-1, '2026-01-01T00:00:00.000020Z'],
      [1, '2026-01-01T00:00:00.000030Z'],
      [-1, '2026-01-01T00:00:00.000005Z'],
    ];
    const told = await database.sql
      .begin(async (tx) => {
        const [op] = await tx`INSERT INTO stock_operations (idempotency_key, kind, request_hash, actor) VALUES ('tie/op', 'adjust', 'tie', 'test') RETURNING id`;
        for (const [n, [delta, at]] of history.entries()) {
          await tx`
            INSERT INTO stock_movements (operation_id, idempotency_key, variant_id, location_id, kind, delta_on_hand, reason_code, actor, created_at)
            SELECT ${op.id}, ${`tie/${n}`}, v.id, l.id, 'adjust', ${delta}, 'correction', 'test', ${at}::timestamptz
            FROM variants v, locations l WHERE v.sku = 'W-TIE' AND l.code = 'WH2'`;
        }
        const periods = await tx`
          SELECT to_char(started_at AT TIME ZONE 'UTC', 'SS.US') AS started, to_char(ended_at AT TIME ZONE 'UTC', 'SS.US') AS ended
          FROM stockout_periods_from_ledger p JOIN variants v ON v.id = p.variant_id JOIN locations l ON l.id = p.location_id
          WHERE v.sku = 'W-TIE' AND l.code = 'WH2' ORDER BY p.started_at`;
        throw Object.assign(new Error('rolled back'), { periods: periods.map((p) => ({ ...p })) });
      })
      .catch((error: { periods?: unknown }) => error.periods);
    // Out at 10 µs, back at 5 µs (later in lock order, started earlier): no time out, not kept; out
    // at 20, back at 30; out again at 5, still out.
    assert.deepEqual(told, [
      { started: '00.000005', ended: null },
      { started: '00.000020', ended: '00.000030' },
    ]);
  });

  it('counts stock sold before any arrived as out of stock, but not as a stockout event', async () => {
    const period = async () => {
      const rows = await database.sql<{ open: boolean; fromStock: boolean }[]>`
        SELECT p.ended_at IS NULL AS open, p.from_stock AS "fromStock" FROM stockout_periods p JOIN variants v ON v.id = p.variant_id
        WHERE v.sku = 'MTO-1' ORDER BY p.started_at`;
      return rows.map((r) => ({ ...r }));
    };
    await apply(database, { kind: 'adjust', idempotencyKey: 'mto-sold-first', sku: 'MTO-1', location: 'WH2', delta: -3, reasonCode: 'correction' });
    assert.deepEqual(await period(), [{ open: true, fromStock: false }]);
    await apply(database, { kind: 'receive', idempotencyKey: 'mto-arrived', sku: 'MTO-1', location: 'WH2', quantity: 3 });
    assert.deepEqual(await period(), [{ open: true, fromStock: false }], 'at 0: still out of stock');
    await apply(database, { kind: 'receive', idempotencyKey: 'mto-stocked', sku: 'MTO-1', location: 'WH2', quantity: 1 });
    assert.deepEqual(await period(), [{ open: false, fromStock: false }]);
  });

  it('refuses negative on-hand for a normal item, with nothing written', async () => {
    await apply(database, { kind: 'receive', idempotencyKey: 'neg-rcv', sku: 'W-NEG', location: 'WH1', quantity: 3 });
    const code = await refusalCode(
      apply(database, { kind: 'adjust', idempotencyKey: 'neg-adj', sku: 'W-NEG', location: 'WH1', delta: -5, reasonCode: 'damaged' }),
    );
    assert.equal(code, 'negative_not_allowed');
    const claims = await database.sql`SELECT count(*)::int AS n FROM stock_operations WHERE idempotency_key = 'neg-adj'`;
    assert.equal(claims[0].n, 0);
    assert.equal((await getStockLevels(database.db, 'W-NEG'))?.total.onHand, 3);
  });

  it('refuses a negative bucket in the database itself, whatever the code path', async () => {
    await assert.rejects(
      database.sql`UPDATE stock_balances SET on_hand = -1 WHERE variant_id = (SELECT id FROM variants WHERE sku = 'W-NEG')`,
      /stock_balances_on_hand_policy/,
    );
    await assert.rejects(
      database.sql`UPDATE stock_balances SET reserved = -1 WHERE variant_id = (SELECT id FROM variants WHERE sku = 'W-NEG')`,
      /stock_balances_reserved_nonnegative/,
    );
  });

  it('lets an item whose policy allows it go below zero', async () => {
    const result = await apply(database, { kind: 'adjust', idempotencyKey: 'mto-adj', sku: 'MTO-1', location: 'WH1', delta: -2, reasonCode: 'correction' });
    assert.equal(result.balances[0].onHand, -2);
  });

  it('refuses an adjustment without a reason code, at the boundary and in the database', async () => {
    const parsed = StockOperation.safeParse({ kind: 'adjust', idempotencyKey: 'x', sku: 'W-1', location: 'WH1', delta: 1 });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues.map((i) => i.path.join('.')), ['reasonCode']);
    await assert.rejects(
      database.sql`INSERT INTO adjustments (idempotency_key, variant_id, location_id, delta, reason_code, actor)
        SELECT 'raw-adj', v.id, l.id, 1, NULL, 'psql' FROM variants v, locations l WHERE v.sku = 'W-1' AND l.code = 'WH1'`,
      /null value in column "reason_code"/,
    );
    await assert.rejects(
      database.sql`INSERT INTO adjustments (idempotency_key, variant_id, location_id, delta, reason_code, actor)
        SELECT 'raw-adj', v.id, l.id, 1, 'because', 'psql' FROM variants v, locations l WHERE v.sku = 'W-1' AND l.code = 'WH1'`,
      /adjustments_reason_code_reason_codes_code_fk/,
    );
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the ledger and the audit log', async () => {
    await assert.rejects(database.sql`UPDATE stock_movements SET delta_on_hand = 1000`, /stock_movements is append-only: UPDATE refused/);
    await assert.rejects(database.sql`DELETE FROM stock_movements`, /stock_movements is append-only: DELETE refused/);
    await assert.rejects(database.sql`TRUNCATE stock_movements CASCADE`, /append-only: TRUNCATE refused/);
    await assert.rejects(database.sql`UPDATE audit_log SET actor = 'someone else'`, /audit_log is append-only: UPDATE refused/);
    await assert.rejects(database.sql`DELETE FROM audit_log`, /audit_log is append-only: DELETE refused/);
  });

  it('writes an audit row with every operation', async () => {
    const rows = await database.sql`SELECT action, actor FROM audit_log WHERE idempotency_key = 'rcv-1'`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ action: 'stock.receive', actor: 'api' }]);
  });

  it('sets incoming as an absolute figure', async () => {
    await apply(database, { kind: 'set_incoming', idempotencyKey: 'inc-1', sku: 'W-2', location: 'WH1', quantity: 30 });
    const second = await apply(database, { kind: 'set_incoming', idempotencyKey: 'inc-2', sku: 'W-2', location: 'WH1', quantity: 12 });
    assert.equal(second.balances[0].incoming, 12);
    const movements = await database.sql`SELECT delta_incoming FROM stock_movements WHERE idempotency_key IN ('inc-1', 'inc-2') ORDER BY id`;
    assert.deepEqual(movements.map((m) => m.delta_incoming), [30, -18]);
  });

  describe('cycle counts', () => {
    before(async () => {
      await apply(database, { kind: 'receive', idempotencyKey: 'cc-rcv', sku: 'W-COUNT', location: 'WH1', quantity: 100 });
    });

    it('posts a small variance as an adjustment and leaves the SKU selling', async () => {
      const result = await apply(database, { kind: 'cycle_count', idempotencyKey: 'cc-1', sku: 'W-COUNT', location: 'WH1', counted: 97 });
      assert.deepEqual(result.cycleCount, { expected: 100, counted: 97, variance: -3, variancePct: 3, outcome: 'ok' });
      const [adjustment] = await database.sql`SELECT delta, reason_code FROM adjustments WHERE idempotency_key = 'cc-1'`;
      assert.deepEqual({ ...adjustment }, { delta: -3, reason_code: 'count_variance' });
    });

    it('flags a variance over 5% for investigation', async () => {
      const result = await apply(database, { kind: 'cycle_count', idempotencyKey: 'cc-2', sku: 'W-COUNT', location: 'WH1', counted: 91 });
      assert.equal(result.cycleCount?.outcome, 'investigate');
      assert.equal(result.balances[0].countStatus, 'investigate');
      assert.equal(result.balances[0].available, 91);
    });

    it('stops a SKU selling after a variance over 10% until resolved', async () => {
      const result = await apply(database, { kind: 'cycle_count', idempotencyKey: 'cc-3', sku: 'W-COUNT', location: 'WH1', counted: 70 });
      assert.equal(result.cycleCount?.outcome, 'blocked');
      assert.equal(result.balances[0].available, 0);
      assert.equal(
        await refusalCode(apply(database, { kind: 'reserve', idempotencyKey: 'cc-res', sku: 'W-COUNT', location: 'WH1', quantity: 1 })),
        'selling_blocked',
      );
      const clean = await apply(database, { kind: 'cycle_count', idempotencyKey: 'cc-4', sku: 'W-COUNT', location: 'WH1', counted: 70 });
      assert.equal(clean.balances[0].countStatus, 'blocked', 'a clean recount alone does not lift the block');
      const resolved = await apply(database, {
        kind: 'resolve_count_flag',
        idempotencyKey: 'cc-resolve',
        sku: 'W-COUNT',
        location: 'WH1',
        note: 'pallet found in the wrong bay, recounted',
        actor: 'maria',
      });
      assert.equal(resolved.balances[0].countStatus, 'ok');
      assert.equal(resolved.balances[0].available, 70);
    });
  });

  it('refuses an unknown SKU or location naming the field', async () => {
    await assert.rejects(
      apply(database, { kind: 'receive', idempotencyKey: 'unk-1', sku: 'NOPE', location: 'WH1', quantity: 1 }),
      (e: unknown) => e instanceof StockRefusal && e.code === 'unknown_sku' && e.field === 'sku',
    );
    await assert.rejects(
      apply(database, { kind: 'transfer', idempotencyKey: 'unk-2', sku: 'W-1', from: 'WH1', to: 'MARS', quantity: 1 }),
      (e: unknown) => e instanceof StockRefusal && e.code === 'unknown_location' && e.field === 'to',
    );
  });

  it('keeps every balance equal to the sum of its ledger movements', async () => {
    const [{ n }] = await database.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM stock_movements`);
    assert.ok(n > 100, `expected a busy ledger, found ${n} movements`);
    await assertLedgerMatchesBalances(database);
  });
});
