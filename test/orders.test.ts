import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { signedHeaders } from '../api/auth';
import { buildApi } from '../api/server';
import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { getStockLevels } from '../db/levels';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { waitFor } from '../runtime/wait';
import { OrderWindows, type OrderState } from '../schemas/orders';
import { StockOperation } from '../schemas/stock';
import { OrderId, StockflowFlow } from '../workflows/search-attributes';
import { createTestDatabase, defaultApiSettings, infra, startTestWorker, type RunningWorker, principalWithToken } from './harness';
import { assertLedgerMatchesBalances } from './ledger-assertions';

const SECRET = 'orders-webhook-secret';
const TOKEN = 'orders-operator-token';
const operator = { authorization: `Bearer ${TOKEN}` };
const CHANNEL = 'shop';

const OWNERSHIP = {
  owners: [
    { id: 'ivy', name: 'Ivy', contact: 'ivy@example.com', roles: ['inventory' as const] },
    { id: 'wes', name: 'Wes', contact: 'wes@example.com', roles: ['inventory' as const] },
    { id: 'ola', name: 'Ola', contact: 'ola@example.com', roles: ['operations' as const, 'approver' as const] },
    { id: 'finn', name: 'Finn', contact: 'finn@example.com', roles: ['fulfilment' as const] },
  ],
  rules: [
    { owner: 'ivy', backup: 'wes', escalation: 'ola', ackSla: '1h', resolutionSla: '1d' },
    { match: { exceptionType: 'order_fulfilment' }, owner: 'finn', backup: 'wes', escalation: 'ola', ackSla: '1h', resolutionSla: '1d' },
  ],
};

type Body = Record<string, unknown>;
let eventCounter = 0;

describe('orders: trigger to outcome', () => {
  let database: Database;
  let worker: RunningWorker;
  /** Windows long enough never to fire during a test. */
  let api: FastifyInstance;
  /** Windows of a couple of seconds, for the timeout paths. */
  let hurried: FastifyInstance;
  let warehouse: http.Server;
  const handOffs: { orderId: string; attempt: number }[] = [];

  before(async () => {
    database = await createTestDatabase();
    await replaceOwnership(database.db, OWNERSHIP);
    await addToCatalogue(database.db, {
      locations: [{ code: 'WH1', name: 'Warehouse 1' }],
      items: [{ name: 'Sale item', skus: ['FLASH-1', 'CAP-1', 'CAP-2', 'MUG-1', 'MUG-2'] }],
    });
    for (const [sku, quantity] of [['FLASH-1', 200], ['CAP-1', 50], ['CAP-2', 50], ['MUG-1', 50], ['MUG-2', 3]] as const) {
      await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: `seed/${sku}`, sku, location: 'WH1', quantity }));
    }
    warehouse = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        const parsed = JSON.parse(body) as { orderId: string; attempt: number };
        handOffs.push({ orderId: parsed.orderId, attempt: parsed.attempt });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => warehouse.listen(0, '127.0.0.1', resolve));
    worker = await startTestWorker(database, 'orders', {
      fulfilment: { url: `http://127.0.0.1:${(warehouse.address() as AddressInfo).port}/handoff`, log: () => undefined },
    });
    const deps = { database, client: infra().client, taskQueue: worker.taskQueue, webhookSecret: SECRET, apiToken: TOKEN };
    api = await buildApi({ ...defaultApiSettings, ...deps, orderWindows: OrderWindows.parse({ ...defaultApiSettings.orderWindows, paymentWindow: '1h', fulfilmentWindow: '1h' }) });
    hurried = await buildApi({ ...defaultApiSettings, ...deps, orderWindows: OrderWindows.parse({ paymentWindow: 2, fulfilmentWindow: 2, reservationGrace: 60 }) });
  });

  after(async () => {
    await api?.close();
    await hurried?.close();
    await worker?.stop();
    await new Promise((resolve) => warehouse?.close(resolve));
    await assertLedgerMatchesBalances(database);
    await database?.close();
  });

  async function send(type: string, orderId: string, extra: Body = {}, app = api) {
    eventCounter += 1;
    const event = { type, eventId: `evt-${eventCounter}`, orderId, channel: CHANNEL, ...extra };
    const payload = JSON.stringify(event);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/orders/events',
      payload,
      headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, payload) },
    });
    return { event, response };
  }

  function place(orderId: string, lines: { sku: string; quantity: number }[], app = api) {
    return send('order.placed', orderId, { location: 'WH1', lines }, app);
  }

  async function reachState(orderId: string, state: OrderState, timeoutMs = 20_000) {
    return waitFor(
      `order ${orderId} to be ${state}`,
      async () => {
        const [row] = await database.sql`SELECT state, outcome_reason FROM orders WHERE channel = ${CHANNEL} AND order_id = ${orderId}`;
        return row?.state === state ? row : undefined;
      },
      { timeoutMs },
    );
  }

  async function bucketsOf(sku: string) {
    return (await getStockLevels(database.db, sku))?.total;
  }

  async function order(orderId: string) {
    const response = await api.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: operator });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  }

  async function exceptionsOf(orderId: string) {
    return waitFor(`an exception for ${orderId}`, async () => {
      const rows = await database.sql`SELECT type, subject, owner_id, summary FROM exceptions WHERE order_id = ${orderId} ORDER BY id`;
      return rows.length > 0 ? rows : undefined;
    });
  }

  it('sells 200 units to 300 concurrent orders: exactly 200 reserved, 100 rejected out of stock, never below zero', async function () {
    // 300 order workflows then run on a worker sharing two cores with the database and Temporal.
    this.timeout(300_000);
    let lowest = Number.POSITIVE_INFINITY;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await database.sql`SELECT min(available)::int AS available FROM stock_balances`;
        lowest = Math.min(lowest, row.available);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => place(`flash-${i}`, [{ sku: 'FLASH-1', quantity: 1 }])));
    assert.deepEqual([...new Set(responses.map((r) => r.response.statusCode))], [202]);
    const outcomes = await waitFor(
      'all 300 orders to be reserved or rejected',
      async () => {
        const rows = await database.sql`
          SELECT state, count(*)::int AS n FROM orders WHERE order_id LIKE 'flash-%' AND state IN ('reserved', 'rejected') GROUP BY state`;
        const counts = Object.fromEntries(rows.map((r) => [r.state, r.n]));
        return (counts.reserved ?? 0) + (counts.rejected ?? 0) === 300 ? counts : undefined;
      },
      { timeoutMs: 280_000, intervalMs: 250 },
    );
    sampling = false;
    await sampler;
    assert.deepEqual(outcomes, { reserved: 200, rejected: 100 });
    const reasons = await database.sql`SELECT DISTINCT split_part(outcome_reason, ':', 1) AS code FROM orders WHERE order_id LIKE 'flash-%' AND state = 'rejected'`;
    assert.deepEqual(reasons.map((r) => r.code), ['insufficient_stock']);
    assert.deepEqual(await bucketsOf('FLASH-1'), { onHand: 200, reserved: 200, committed: 0, incoming: 0, available: 0 });
    const [held] = await database.sql`SELECT count(*)::int AS n, sum(quantity)::int AS units FROM reservations WHERE order_ref LIKE 'order/shop/flash-%' AND status = 'active'`;
    assert.deepEqual({ ...held }, { n: 200, units: 200 });
    assert.ok(lowest >= 0, `available went down to ${lowest}`);
    await assertLedgerMatchesBalances(database);
  });

  it('takes an order from placed to shipped, committing then issuing the stock, with every transition owned', async () => {
    await place('life-1', [
      { sku: 'CAP-1', quantity: 2 },
      { sku: 'CAP-2', quantity: 1 },
    ]);
    await reachState('life-1', 'reserved');
    assert.deepEqual(await bucketsOf('CAP-1'), { onHand: 50, reserved: 2, committed: 0, incoming: 0, available: 48 });
    await send('order.paid', 'life-1');
    await reachState('life-1', 'fulfilment_requested');
    assert.deepEqual(handOffs.filter((h) => h.orderId === 'life-1'), [{ orderId: 'life-1', attempt: 1 }]);
    await send('fulfilment.accepted', 'life-1');
    await reachState('life-1', 'accepted');
    assert.deepEqual(await bucketsOf('CAP-1'), { onHand: 50, reserved: 0, committed: 2, incoming: 0, available: 48 });
    await send('fulfilment.shipped', 'life-1', { trackingRef: 'TRACK-1' });
    await reachState('life-1', 'closed');
    assert.deepEqual(await bucketsOf('CAP-1'), { onHand: 48, reserved: 0, committed: 0, incoming: 0, available: 48 });
    assert.deepEqual(await bucketsOf('CAP-2'), { onHand: 49, reserved: 0, committed: 0, incoming: 0, available: 49 });

    const record = await order('life-1');
    assert.equal(record.workflowId, 'order/shop/life-1');
    assert.deepEqual(
      record.transitions.map((t: { from: string | null; to: string; actor: string; ownerId: string }) => [t.from, t.to, t.actor, t.ownerId]),
      [
        [null, 'received', 'channel:shop', 'ivy'],
        ['received', 'validated', 'channel:shop', 'ivy'],
        ['validated', 'reserved', 'stockflow', 'ivy'],
        ['reserved', 'paid', 'channel:shop', 'finn'],
        ['paid', 'fulfilment_requested', 'stockflow', 'finn'],
        ['fulfilment_requested', 'accepted', 'fulfilment:shop', 'finn'],
        ['accepted', 'shipped', 'fulfilment:shop', 'finn'],
        ['shipped', 'closed', 'stockflow', 'finn'],
      ],
    );
    assert.ok(record.transitions.every((t: { at: string }) => !Number.isNaN(Date.parse(t.at))));
    // Lines are reserved in parallel, so their reservations come in either order.
    assert.deepEqual(record.reservations.map((r: { sku: string; status: string }) => [r.sku, r.status]).sort(), [['CAP-1', 'issued'], ['CAP-2', 'issued']]);
    assert.equal(record.events.length, 4);
    const description = await infra().client.workflow.getHandle('order/shop/life-1').describe();
    assert.equal(description.typedSearchAttributes.get(StockflowFlow), 'orderReconciliation');
    assert.equal(description.typedSearchAttributes.get(OrderId), 'life-1');
  });

  it('ignores a repeated event id and copes with events out of order', async () => {
    const paid = await send('order.paid', 'mixed-1');
    assert.equal(paid.response.statusCode, 202);
    const placed = await place('mixed-1', [{ sku: 'MUG-1', quantity: 4 }]);
    const again = await api.inject({
      method: 'POST',
      url: '/v1/orders/events',
      payload: JSON.stringify(placed.event),
      headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, JSON.stringify(placed.event)) },
    });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().new, false);
    await reachState('mixed-1', 'fulfilment_requested');
    // A second placement (new event id) of an order already placed changes nothing either.
    await place('mixed-1', [{ sku: 'MUG-1', quantity: 40 }]);
    await send('fulfilment.shipped', 'mixed-1');
    await reachState('mixed-1', 'closed');
    const [reservations] = await database.sql`SELECT count(*)::int AS n FROM reservations WHERE order_ref = 'order/shop/mixed-1'`;
    assert.equal(reservations.n, 1);
    assert.deepEqual(await bucketsOf('MUG-1'), { onHand: 46, reserved: 0, committed: 0, incoming: 0, available: 46 });
    await infra().client.workflow.getHandle('order/shop/mixed-1').result();
    const late = await send('order.cancelled', 'mixed-1');
    assert.equal(late.response.statusCode, 202);
    assert.equal(late.response.json().delivered, false, 'a closed order is not started again');
  });

  describe('cancellation puts back exactly what was taken, in every state', () => {
    const cases: { state: OrderState; steps: string[]; raises: boolean }[] = [
      { state: 'received', steps: [], raises: false },
      { state: 'reserved', steps: ['order.placed'], raises: false },
      { state: 'fulfilment_requested', steps: ['order.placed', 'order.paid'], raises: true },
      { state: 'accepted', steps: ['order.placed', 'order.paid', 'fulfilment.accepted'], raises: true },
    ];
    for (const c of cases) {
      it(`in ${c.state}`, async () => {
        const orderId = `cancel-${c.state}`;
        const before = await bucketsOf('CAP-1');
        for (const step of c.steps) {
          if (step === 'order.placed') await place(orderId, [{ sku: 'CAP-1', quantity: 3 }]);
          else await send(step, orderId);
        }
        if (c.steps.length === 0) await send('order.paid', orderId);
        await reachState(orderId, c.state);
        await send('order.cancelled', orderId, { reason: 'customer changed their mind' });
        const ended = await reachState(orderId, 'cancelled');
        assert.match(ended.outcome_reason, new RegExp(`^cancelled in ${c.state}: customer changed their mind$`));
        assert.deepEqual(await bucketsOf('CAP-1'), before);
        if (c.raises) {
          const [raised] = await exceptionsOf(orderId);
          assert.deepEqual([raised.type, raised.subject, raised.owner_id], ['order_fulfilment', `shop/${orderId}/cancelled`, 'finn']);
        }
      });
    }
  });

  it('rejects an order when any line is short, reserving none of its lines', async () => {
    const { response } = await place('short-1', [
      { sku: 'CAP-2', quantity: 5 },
      { sku: 'MUG-2', quantity: 4 },
    ]);
    const ended = await reachState('short-1', 'rejected');
    assert.match(ended.outcome_reason, /^insufficient_stock: only 3 of MUG-2 available at WH1, 4 requested$/);
    assert.deepEqual(await bucketsOf('CAP-2'), { onHand: 49, reserved: 0, committed: 0, incoming: 0, available: 49 });
    assert.deepEqual(response.json().placement, { status: 'rejected', why: 'out_of_stock', reason: 'insufficient_stock: only 3 of MUG-2 available at WH1, 4 requested' });
    // All or nothing in one transaction: the line that fitted was never reserved, not reserved and released.
    const statuses = await database.sql`SELECT status FROM reservations WHERE order_ref = 'order/shop/short-1'`;
    assert.deepEqual(statuses.map((s) => s.status), []);
  });

  it('rejects unknown SKUs in the workflow and malformed events at the door', async () => {
    await place('bad-1', [{ sku: 'NOPE-9', quantity: 1 }]);
    const ended = await reachState('bad-1', 'rejected');
    assert.equal(ended.outcome_reason, 'invalid order: lines.0.sku: unknown SKU "NOPE-9"');
    const { response } = await send('order.placed', 'bad-2', { location: 'WH1', lines: [{ sku: 'CAP-1', quantity: 0 }] });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json().issues, [{ field: 'lines.0.quantity', reason: 'must be greater than 0' }]);
    const unsigned = await api.inject({ method: 'POST', url: '/v1/orders/events', payload: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(unsigned.statusCode, 401);
  });

  it('expires a reservation that is not paid within the payment window', async () => {
    await place('unpaid-1', [{ sku: 'MUG-1', quantity: 5 }], hurried);
    await reachState('unpaid-1', 'reserved');
    const ended = await reachState('unpaid-1', 'expired');
    assert.match(ended.outcome_reason, /not paid within 2s/);
    const statuses = await database.sql`SELECT status FROM reservations WHERE order_ref = 'order/shop/unpaid-1'`;
    assert.deepEqual(statuses.map((s) => s.status), ['expired']);
    assert.deepEqual(await bucketsOf('MUG-1'), { onHand: 46, reserved: 0, committed: 0, incoming: 0, available: 46 });
  });

  it('raises "downstream did not acknowledge" when fulfilment is silent, and hands off again on retry', async () => {
    await place('silent-1', [{ sku: 'CAP-2', quantity: 1 }], hurried);
    await send('order.paid', 'silent-1', {}, hurried);
    await reachState('silent-1', 'fulfilment_requested');
    const [raised] = await exceptionsOf('silent-1');
    assert.deepEqual([raised.type, raised.subject, raised.owner_id], ['order_fulfilment', 'shop/silent-1/handoff', 'finn']);
    assert.match(raised.summary, /downstream did not acknowledge the hand-off within 2s/);
    const retry = await api.inject({
      method: 'POST',
      url: '/v1/orders/silent-1/fulfilment-retries',
      headers: await principalWithToken(database, 'finn', 'operator'),
      payload: { reason: 'warehouse back up' },
    });
    assert.equal(retry.statusCode, 202, retry.body);
    await waitFor('the second hand-off', async () => (handOffs.some((h) => h.orderId === 'silent-1' && h.attempt === 2) ? true : undefined));
    await send('fulfilment.accepted', 'silent-1', {}, hurried);
    await reachState('silent-1', 'accepted');
    const asked = (await order('silent-1')).transitions.filter((t: { actor: string }) => t.actor === 'finn');
    assert.equal(asked.length, 1, 'the retry is recorded once, as a transition by the person who asked');
    assert.equal(asked[0].from, asked[0].to);
    assert.equal(asked[0].reason, 'fulfilment retry requested: warehouse back up');
  });

  it('refuses an event id reused for a different event, and starts nothing for it', async () => {
    const { event } = await place('twin-a', [{ sku: 'CAP-1', quantity: 1 }]);
    const again = JSON.stringify({ ...event, orderId: 'twin-b' });
    const reused = await api.inject({ method: 'POST', url: '/v1/orders/events', payload: again, headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, again) } });
    assert.equal(reused.statusCode, 409, reused.body);
    assert.equal(reused.json().error, 'event_conflict');
    assert.match(reused.json().message, /eventId: .*already received as order\.placed of order twin-a/);
    const repeat = JSON.stringify(event);
    const same = await api.inject({ method: 'POST', url: '/v1/orders/events', payload: repeat, headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, repeat) } });
    assert.equal(same.statusCode, 200, same.body);
    assert.equal(same.json().workflowId, 'order/shop/twin-a');
    const started = await infra().client.workflow.count(`WorkflowId = 'order/shop/twin-b'`);
    assert.equal(started.count, 0);
    const [stored] = await database.sql`SELECT count(*)::int AS n FROM order_events WHERE order_id = 'twin-b'`;
    assert.equal(stored.n, 0);
  });

  it('fails with an exception, instead of stalling, when the warehouse accepts stock the sweep already expired', async () => {
    const before = await bucketsOf('MUG-1');
    await place('swept-1', [{ sku: 'MUG-1', quantity: 2 }]);
    await send('order.paid', 'swept-1');
    await reachState('swept-1', 'fulfilment_requested');
    // What the reservation sweep does to a reservation past its expiry.
    await applyStockOperation(database.db, StockOperation.parse({ kind: 'release', idempotencyKey: 'sweep/swept-1', reservationKey: 'order/shop/swept-1/reserve/1', outcome: 'expired' }));
    await send('fulfilment.accepted', 'swept-1');
    const ended = await reachState('swept-1', 'failed');
    assert.equal(ended.outcome_reason, 'fulfilment failed: line 1 (MUG-1) was no longer reserved when the warehouse accepted');
    assert.deepEqual(await bucketsOf('MUG-1'), before);
    const [raised] = await exceptionsOf('swept-1');
    assert.equal(raised.subject, 'shop/swept-1/failed');
  });

  it('puts picked stock back and raises an exception when fulfilment fails', async () => {
    const before = await bucketsOf('CAP-1');
    await place('fail-1', [{ sku: 'CAP-1', quantity: 2 }]);
    await send('order.paid', 'fail-1');
    await send('fulfilment.accepted', 'fail-1');
    await reachState('fail-1', 'accepted');
    await send('fulfilment.failed', 'fail-1', { reason: 'damaged in packing' });
    const ended = await reachState('fail-1', 'failed');
    assert.equal(ended.outcome_reason, 'fulfilment failed: damaged in packing');
    assert.deepEqual(await bucketsOf('CAP-1'), before);
    const [raised] = await exceptionsOf('fail-1');
    assert.equal(raised.subject, 'shop/fail-1/failed');
  });
});
