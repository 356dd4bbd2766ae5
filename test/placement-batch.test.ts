import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { getStockLevels } from '../db/levels';
import { placeOrders } from '../db/placement-batch';
import { placeOrder, type PlacementReceipt, type PlacementRequest } from '../db/placements';
import { createPurchaseOrder } from '../db/purchase-orders';
import { registerSupplier } from '../db/suppliers';
import { idempotencyKeys, workflowIds } from '../domain/keys';
import type { AllocationRules, OrderEvent } from '../schemas/orders';
import { placeBatch } from '../services/checkout-lanes';
import { createTestDatabase, receiveStock } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

const ALLOCATION: AllocationRules = { strategy: 'priority', locationPriority: ['WEST', 'EAST'], splitChannels: ['wholesale-a', 'wholesale-b'], backorderLeadSeconds: 86400 };

type Line = { sku: string; quantity: number };

function request(channel: string, orderId: string, lines: Line[], location?: string, eventId = `${orderId}-placed`): PlacementRequest {
  const workflowId = workflowIds.order(channel, orderId);
  const event = { type: 'order.placed', eventId, channel, orderId, lines, ...(location ? { location } : {}) } as Extract<OrderEvent, { type: 'order.placed' }>;
  return { event, workflowId, reservationKey: (n) => idempotencyKeys.orderLine(workflowId, 'reserve', n), ttlSeconds: 3600, actor: 'stockflow', allocation: ALLOCATION };
}

const answerOf = (placed: { receipt: PlacementReceipt } | { failed: unknown }) => {
  assert.ok('receipt' in placed, `a placement failed: ${'failed' in placed ? String(placed.failed) : ''}`);
  assert.ok('answer' in placed.receipt);
  return placed.receipt.answer;
};

describe('checkout batches: many orders in one transaction', () => {
  let database: Database;

  before(async () => {
    database = await createTestDatabase();
    await addToCatalogue(database.db, {
      locations: [
        { code: 'EAST', name: 'East' },
        { code: 'WEST', name: 'West' },
        { code: 'MAKER-DS', name: 'Maker drop-ship' },
      ],
      items: [
        { name: 'Batch items', skus: ['A-1', 'A-2', 'B-1', 'B-2', 'LOCK-1', 'LOCK-2', 'LOCK-3', 'ISO-1', 'EXP-1'] },
        { name: 'Made to order', allowNegative: true, skus: ['A-3', 'B-3', 'BO-1'] },
      ],
    });
    const receipts: [string, string, number][] = [
      ['A-1', 'EAST', 9],
      ['A-1', 'WEST', 4],
      ['A-2', 'EAST', 6],
      ['A-3', 'EAST', 2],
      ['B-1', 'EAST', 9],
      ['B-1', 'WEST', 4],
      ['B-2', 'EAST', 6],
      ['B-3', 'EAST', 2],
      ['LOCK-1', 'EAST', 40],
      ['LOCK-2', 'EAST', 40],
      ['LOCK-3', 'EAST', 40],
      ['ISO-1', 'EAST', 5],
      ['EXP-1', 'EAST', 1],
      ['BO-1', 'EAST', 1],
    ];
    await receiveStock(database, receipts);
  });

  after(async () => {
    await assertLedgerMatchesBalances(database);
    await database?.close();
  });

  it('answers every order of a batch as it would have been answered alone, one after the other', async () => {
    // The same orders, on twin SKUs with twin stock: world "a" placed in batches, world "b" one by one.
    const order = fc.record({
      lines: fc.array(fc.record({ sku: fc.constantFrom('1', '2', '3', '9'), quantity: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 3 }),
      location: fc.constantFrom('EAST', 'WEST', undefined),
      wholesale: fc.boolean(),
      repeatOf: fc.option(fc.nat(), { nil: undefined }),
    });
    const [orders, cuts] = fc.sample(fc.tuple(fc.array(order, { minLength: 40, maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 40, maxLength: 40 })), { numRuns: 1, seed: 20261203 })[0];
    const requestIn = (world: 'a' | 'b', n: number) => {
      const o = orders[n];
      // A repeat sends an earlier order's very event again.
      const source = o.repeatOf !== undefined && n > 0 ? o.repeatOf % n : n;
      const s = orders[source];
      const lines = s.lines.map((l) => ({ sku: l.sku === '9' ? `${world.toUpperCase()}-UNKNOWN` : `${world.toUpperCase()}-${l.sku}`, quantity: l.quantity }));
      return request(`${s.wholesale ? 'wholesale' : 'shop'}-${world}`, `twin-${source}`, lines, s.location);
    };

    const batched: PlacementReceipt[] = [];
    for (let n = 0, c = 0; n < orders.length; c++) {
      const size = Math.min(cuts[c], orders.length - n);
      const placed = await placeOrders(database.db, Array.from({ length: size }, (_, k) => requestIn('a', n + k)));
      batched.push(...placed.map((p) => ('receipt' in p ? p.receipt : assert.fail(String(p.failed)))));
      n += size;
    }
    const alone: PlacementReceipt[] = [];
    for (let n = 0; n < orders.length; n++) alone.push(await placeOrder(database.db, requestIn('b', n)));

    const twin = (receipt: PlacementReceipt) =>
      JSON.parse(JSON.stringify(receipt).replaceAll('-a', '-b').replaceAll('A-', 'B-').replace(/"(expiresAt|expectedBy)":"[^"]+"/g, '"$1":"…"'));
    assert.deepEqual(batched.map(twin), alone.map(twin));
    assert.ok(batched.some((r) => 'answer' in r && r.answer?.status === 'reserved'));
    assert.ok(batched.some((r) => 'answer' in r && r.answer?.status === 'rejected' && r.answer.why === 'out_of_stock'));
    assert.ok(batched.some((r) => 'answer' in r && r.answer?.status === 'rejected' && r.answer.why === 'invalid'));
    assert.ok(batched.some((r) => 'isNew' in r && !r.isNew), 'the sample repeats an event');
    for (const sku of ['1', '2', '3']) {
      const [a, b] = await Promise.all([getStockLevels(database.db, `A-${sku}`), getStockLevels(database.db, `B-${sku}`)]);
      assert.deepEqual(a?.locations, b?.locations, `A-${sku} and B-${sku} end alike`);
    }
  });

  it('keeps a reservation expiry and result as the reserve statement records them', async () => {
    const [placed] = await placeOrders(database.db, [request('shop-exp', 'expiry-1', [{ sku: 'EXP-1', quantity: 1 }], 'EAST')]);
    const answer = answerOf(placed);
    assert.equal(answer?.status, 'reserved');
    const key = answer?.status === 'reserved' ? answer.parts[0].reservationKey : '';
    const [row] = await database.sql`
      SELECT to_char(r.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS expires, o.result, m.delta_reserved, m.source_ref, a.action
      FROM reservations r JOIN stock_operations o ON o.idempotency_key = r.idempotency_key
      JOIN stock_movements m ON m.idempotency_key = r.idempotency_key JOIN audit_log a ON a.idempotency_key = r.idempotency_key
      WHERE r.idempotency_key = ${key}`;
    assert.equal(answer?.status === 'reserved' && answer.expiresAt, row.expires);
    assert.equal(row.result.reservation.expiresAt, row.expires);
    assert.deepEqual([row.delta_reserved, row.source_ref, row.action, row.result.reservation.status], [1, workflowIds.order('shop-exp', 'expiry-1'), 'stock.reserve', 'active']);
  });

  it('never deadlocks: batches of orders over the same SKUs in every order all commit, and sell no unit twice', async () => {
    const skus = ['LOCK-1', 'LOCK-2', 'LOCK-3'];
    const batches = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 8 }, (_, o) => {
        const first = skus[(b + o) % 3];
        const second = skus[(b + 2 * o + 1) % 3];
        return request('shop-lock', `lock-${b}-${o}`, [{ sku: first, quantity: 1 }, ...(first === second ? [] : [{ sku: second, quantity: 1 }])], 'EAST');
      }),
    );
    const placed = (await Promise.all(batches.map((batch) => placeOrders(database.db, batch)))).flat();
    const answers = placed.map(answerOf);
    const reservedUnits = new Map<string, number>();
    for (const answer of answers) {
      if (answer?.status !== 'reserved') continue;
      for (const part of answer.parts) reservedUnits.set(part.sku, (reservedUnits.get(part.sku) ?? 0) + part.quantity);
    }
    for (const sku of skus) {
      const total = (await getStockLevels(database.db, sku))?.total;
      assert.equal(total?.reserved, reservedUnits.get(sku) ?? 0, `${sku}: the answers are what is reserved`);
      assert.ok((total?.available ?? -1) >= 0, `${sku} is not oversold`);
    }
    assert.ok(answers.some((a) => a?.status === 'rejected'), 'the batches ask for more than there is');
  });

  it('fails a batch whose transaction fails as a whole, storing nothing; placed again each alone, only the faulty order fails', async () => {
    const good = (n: number) => request('shop-iso', `iso-${n}`, [{ sku: 'ISO-1', quantity: 1 }], 'EAST');
    const faulty = {
      ...request('shop-iso', 'iso-faulty', [{ sku: 'ISO-1', quantity: 1 }], 'EAST'),
      reservationKey: () => {
        throw new Error('no key for this order');
      },
    };
    await assert.rejects(placeOrders(database.db, [good(1), faulty, good(2)]), /no key for this order/);
    const [stored] = await database.sql`SELECT count(*)::int AS n FROM order_events WHERE channel = 'shop-iso'`;
    assert.equal(stored.n, 0, 'nothing of the failed batch is stored');

    const placed = await placeBatch(database.db, [good(1), faulty, good(2)]);
    assert.equal(answerOf(placed[0])?.status, 'reserved');
    assert.match(String('failed' in placed[1] && placed[1].failed), /no key for this order/);
    assert.equal(answerOf(placed[2])?.status, 'reserved');
    assert.deepEqual((await getStockLevels(database.db, 'ISO-1'))?.total.reserved, 2);
  });

  it('dates backordered units by the open purchase order whose arrival covers them after the backorders ahead, else by the lead time', async () => {
    await registerSupplier(database.db, { id: 'maker', name: 'Maker', location: 'MAKER-DS' });
    const order = (poNumber: string, expectedAt: string, quantity: number) =>
      createPurchaseOrder(database.db, { by: 'buyer', poNumber, supplierId: 'maker', expectedAt, lines: [{ sku: 'BO-1', location: 'EAST', quantity }] }, new Date());
    await order('PO-BO-LATE', '2027-01-20T00:00:00.000Z', 5);
    await order('PO-BO-SOON', '2027-01-05T00:00:00.000Z', 2);
    const placed = await placeOrders(
      database.db,
      [1, 2, 3, 4].map((n) => request('shop-bo', `bo-${n}`, [{ sku: 'BO-1', quantity: n === 1 ? 2 : 3 }], 'EAST')),
    );
    const backorders = placed.map((p) => {
      const answer = answerOf(p);
      return answer?.status === 'reserved' ? answer.parts[0].backordered : undefined;
    });
    // 1 on hand: the first order is short 1 (the soon order covers it), the second 3 more (4 owed: the late one), the third 7 (late covers up to 7), the fourth 10 (nothing covers it).
    assert.deepEqual(
      backorders.map((b) => [b?.quantity, b?.basis, b?.purchaseOrder, b?.basis === 'purchase_order' ? b.expectedBy : 'lead time']),
      [
        [1, 'purchase_order', 'PO-BO-SOON', '2027-01-05T00:00:00.000Z'],
        [3, 'purchase_order', 'PO-BO-LATE', '2027-01-20T00:00:00.000Z'],
        [3, 'purchase_order', 'PO-BO-LATE', '2027-01-20T00:00:00.000Z'],
        [3, 'lead_time', undefined, 'lead time'],
      ],
    );
    const alone = await placeOrder(database.db, request('shop-bo', 'bo-5', [{ sku: 'BO-1', quantity: 1 }], 'EAST'));
    assert.equal('answer' in alone && alone.answer?.status === 'reserved' && alone.answer.parts[0].backordered?.basis, 'lead_time', 'one at a time, the same rule');
  });
});

