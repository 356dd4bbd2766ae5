import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { getStockLevels } from '../db/levels';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { waitFor } from '../runtime/wait';
import type { CartView } from '../schemas/carts';
import type { PlacementAnswer } from '../schemas/orders';
import { StockOperation } from '../schemas/stock';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, type RunningWorker } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

describe('cart reservations', () => {
  let database: Database;
  let worker: RunningWorker;
  let api: FastifyInstance;

  before(async () => {
    database = await createTestDatabase();
    await replaceOwnership(database.db, {
      owners: [{ id: 'ivy', name: 'Ivy', contact: 'ivy@example.com', roles: ['inventory' as const] }],
      rules: [{ owner: 'ivy', backup: 'ivy', escalation: 'ivy', ackSla: '1h', resolutionSla: '1d' }],
    });
    await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Cart items', skus: ['TEE-1', 'TEE-2', 'TEE-3', 'TEE-4'] }] });
    for (const sku of ['TEE-1', 'TEE-2', 'TEE-3', 'TEE-4']) {
      await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: `seed/${sku}`, sku, location: 'WH1', quantity: 10 }));
    }
    worker = await startTestWorker(database, 'carts');
    api = await buildApi({ ...defaultApiSettings, database, client: infra().client, taskQueue: worker.taskQueue });
  });

  after(async () => {
    await api?.close();
    await worker?.stop();
    await assertLedgerMatchesBalances(database);
    await database?.close();
  });

  async function call(method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
    const response = await api.inject({ method, url, ...(payload ? { payload } : {}) });
    return { status: response.statusCode, body: response.json() };
  }

  const hold = (cartId: string, sku: string, quantity: number, ttl: string | number = '15m') =>
    call('POST', '/v1/reservations', { cartId, channel: 'shop', location: 'WH1', lines: [{ sku, quantity }], ttl });

  const levels = async (sku: string) => (await getStockLevels(database.db, sku))?.total;

  async function cartReaches(cartId: string, status: string): Promise<CartView> {
    return waitFor(`cart ${cartId} to be ${status}`, async () => {
      const { body } = await call('GET', `/v1/reservations/${cartId}`);
      return body.status === status ? (body as CartView) : undefined;
    }, { timeoutMs: 30_000 });
  }

  it('holds a cart until its expiry, then the timer puts the units back', async () => {
    const held = await hold('cart-expire', 'TEE-1', 4, 2);
    assert.equal(held.status, 201, JSON.stringify(held.body));
    assert.equal(held.body.status, 'held');
    assert.deepEqual(await levels('TEE-1'), { onHand: 10, reserved: 4, committed: 0, incoming: 0, available: 6 });
    const repeat = await hold('cart-expire', 'TEE-1', 4, 2);
    assert.equal(repeat.status, 200);
    assert.deepEqual(repeat.body, held.body);
    await cartReaches('cart-expire', 'expired');
    // The status is claimed first and the parts are put back right after, each under its own key.
    await waitFor('the expired cart\'s units to be back', async () => ((await levels('TEE-1'))?.reserved === 0 ? true : undefined), { timeoutMs: 30_000 });
    assert.deepEqual(await levels('TEE-1'), { onHand: 10, reserved: 0, committed: 0, incoming: 0, available: 10 });
    const [reservation] = await database.sql`SELECT status FROM reservations WHERE order_ref = 'cart/cart-expire'`;
    assert.equal(reservation.status, 'expired');
    assert.deepEqual(await infra().client.workflow.getHandle('cart/cart-expire').result(), { outcome: 'expired' });
    const late = await call('POST', '/v1/reservations/cart-expire/extend', { ttl: '1h' });
    assert.equal(late.status, 409);
    assert.equal(late.body.error, 'cart_not_held');
  });

  it('keeps an extended cart past its first expiry', async () => {
    const held = await hold('cart-extend', 'TEE-2', 3, 2);
    const extended = await call('POST', '/v1/reservations/cart-extend/extend', { ttl: '1h' });
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    assert.ok(Date.parse(extended.body.expiresAt) > Date.parse(held.body.expiresAt) + 3_000_000);
    const [reservation] = await database.sql`SELECT expires_at FROM reservations WHERE order_ref = 'cart/cart-extend'`;
    assert.equal(new Date(reservation.expires_at).toISOString(), extended.body.expiresAt, 'the sweep sees the same expiry');
    // Past the first expiry (and a margin for the timer), the cart is still held and so are its units.
    await waitFor('the first expiry to pass', async () => (Date.now() > Date.parse(held.body.expiresAt) + 2_000 ? true : undefined));
    assert.equal((await call('GET', '/v1/reservations/cart-extend')).body.status, 'held');
    assert.deepEqual(await levels('TEE-2'), { onHand: 10, reserved: 3, committed: 0, incoming: 0, available: 7 });
    const released = await call('POST', '/v1/reservations/cart-extend/release');
    assert.equal(released.body.status, 'released');
    assert.deepEqual(await levels('TEE-2'), { onHand: 10, reserved: 0, committed: 0, incoming: 0, available: 10 });
    assert.deepEqual(await infra().client.workflow.getHandle('cart/cart-extend').result(), { outcome: 'released' });
  });

  it('converts a cart into an order without the units ever being free', async () => {
    const held = await hold('cart-convert', 'TEE-3', 5);
    assert.equal(held.status, 201);
    // Sampled throughout the conversion: the cart's 5 units are reserved at every moment.
    let fewest = Number.POSITIVE_INFINITY;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await database.sql`
          SELECT b.reserved FROM stock_balances b JOIN variants v ON v.id = b.variant_id WHERE v.sku = 'TEE-3'`;
        fewest = Math.min(fewest, row.reserved);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const wrong = await call('POST', '/v1/orders/events', {
      type: 'order.placed', eventId: 'conv-0-placed', orderId: 'conv-0', channel: 'shop', cartId: 'cart-convert', lines: [{ sku: 'TEE-3', quantity: 4 }],
    });
    assert.equal((wrong.body.placement as PlacementAnswer).status, 'rejected');
    assert.match((wrong.body.placement as { reason: string }).reason, /^invalid order: cartId: the lines must be what cart "cart-convert" holds: 5 × TEE-3$/);
    const placed = await call('POST', '/v1/orders/events', {
      type: 'order.placed', eventId: 'conv-1-placed', orderId: 'conv-1', channel: 'shop', cartId: 'cart-convert', lines: [{ sku: 'TEE-3', quantity: 2 }, { sku: 'TEE-3', quantity: 3 }],
    });
    const answer = placed.body.placement as Extract<PlacementAnswer, { status: 'reserved' }>;
    assert.equal(answer.status, 'reserved');
    assert.deepEqual(answer.parts.map((p) => [p.sku, p.quantity, p.reservationKey, p.lineNos]), [['TEE-3', 5, 'cart/cart-convert/reserve/1', [1, 2]]]);
    await waitFor('the order to be reserved', async () => {
      const [row] = await database.sql`SELECT state FROM orders WHERE workflow_id = 'order/shop/conv-1'`;
      return row?.state === 'reserved' ? true : undefined;
    });
    await cartReaches('cart-convert', 'converted');
    assert.deepEqual(await infra().client.workflow.getHandle('cart/cart-convert').result(), { outcome: 'converted' });
    sampling = false;
    await sampler;
    assert.equal(fewest, 5, 'the units were never free during the conversion');
    const rows = await database.sql`SELECT order_ref, status, quantity FROM reservations WHERE idempotency_key = 'cart/cart-convert/reserve/1'`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ order_ref: 'order/shop/conv-1', status: 'active', quantity: 5 }]);
    assert.deepEqual(await levels('TEE-3'), { onHand: 10, reserved: 5, committed: 0, incoming: 0, available: 5 });

    // The order takes the hold through its life: paid, accepted, shipped, from the cart's reservation.
    for (const type of ['order.paid', 'fulfilment.accepted', 'fulfilment.shipped']) {
      await call('POST', '/v1/orders/events', { type, eventId: `conv-1-${type}`, orderId: 'conv-1', channel: 'shop' });
    }
    await waitFor('the order to close', async () => {
      const [row] = await database.sql`SELECT state FROM orders WHERE workflow_id = 'order/shop/conv-1'`;
      return row?.state === 'closed' ? true : undefined;
    });
    assert.deepEqual(await levels('TEE-3'), { onHand: 5, reserved: 0, committed: 0, incoming: 0, available: 5 });

    const again = await call('POST', '/v1/orders/events', {
      type: 'order.placed', eventId: 'conv-2-placed', orderId: 'conv-2', channel: 'shop', cartId: 'cart-convert', lines: [{ sku: 'TEE-3', quantity: 5 }],
    });
    assert.deepEqual(again.body.placement, { status: 'rejected', why: 'invalid', reason: 'invalid order: cartId: cart "cart-convert" is converted, not held' });
  });

  it('refuses a hold it cannot make whole and stores nothing', async () => {
    const short = await call('POST', '/v1/reservations', { cartId: 'cart-short', channel: 'shop', location: 'WH1', lines: [{ sku: 'TEE-4', quantity: 3 }, { sku: 'TEE-4', quantity: 8 }] });
    assert.equal(short.status, 409);
    assert.equal(short.body.error, 'insufficient_stock');
    assert.equal((await call('GET', '/v1/reservations/cart-short')).status, 404);
    assert.deepEqual(await levels('TEE-4'), { onHand: 10, reserved: 0, committed: 0, incoming: 0, available: 10 });
    const tooLong = await hold('cart-long', 'TEE-4', 1, '91d');
    assert.equal(tooLong.status, 400);
  });
});
