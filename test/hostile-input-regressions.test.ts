import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { LightMyRequestResponse } from 'fastify';
import type { MovementOutcome } from '../workflows/stock-movement';
import { settlementOf } from './fuzz/outcomes';
import { startStand, WORLD, type Stand } from './fuzz/stand';
import { infra } from './harness';

/**
 * One test per defect the independent fuzzer found (issue 17, "Accepted is not done"): each is
 * the smallest request that showed it. The world (test/fuzz/stand.ts) holds 2,000,000,000 of
 * every SKU in every warehouse, and maps supplier SKU A6 to W-2 by cases of 6.
 */
describe('issue 17, accepted is not done: one test per defect', () => {
  let stand: Stand;

  before(async () => {
    stand = await startStand('regressions');
  });

  after(async () => {
    await stand?.close();
  });

  /** A 4xx (in `statuses`) whose issues name a field matching `field`. */
  function assertRefusedNaming(response: LightMyRequestResponse, statuses: number[], field: RegExp): void {
    assert.ok(statuses.includes(response.statusCode), `expected ${statuses.join(' or ')}, got ${response.statusCode}: ${response.body}`);
    const issues: { field: string }[] = response.json().issues ?? [];
    assert.ok(issues.some((issue) => field.test(issue.field)), `expected an issue naming ${field}: ${response.body}`);
  }

  async function onHand(sku: string, location: string): Promise<number> {
    const stock = await stand.sendJson('GET', `/v1/stock/${sku}`);
    return stock.json().locations.find((l: { location: string }) => l.location === location).onHand;
  }

  it('1. ends a receipt that would overflow on hand with a recorded refusal, instead of retrying it forever', async () => {
    // WH2: no supplier feed sets this balance.
    const before = await onHand('W-1', 'WH2');
    const response = await stand.sendJson('POST', '/v1/stock/movements?wait=0', { kind: 'receive', idempotencyKey: 'issue-17/overflowing-receipt', sku: 'W-1', location: 'WH2', quantity: 1_000_000_000 });
    if (response.statusCode === 202) {
      const { workflowId } = response.json();
      const settled = await settlementOf(infra().client, workflowId);
      assert.deepEqual(settled, { state: 'closed' }, 'the workflow must end, not retry its activity');
      const outcome: MovementOutcome = await infra().client.workflow.getHandle(workflowId).result();
      assert.equal(outcome.status, 'refused', JSON.stringify(outcome));
      assert.ok(outcome.message.length > 0);
    } else {
      assertRefusedNaming(response, [409, 422], /quantity/);
    }
    assert.equal(await onHand('W-1', 'WH2'), before);
  });

  it('2. ends a feed whose line overflows on hand after the unit factor, with that line held or rejected and why', async () => {
    const response = await stand.sendJson('POST', `/v1/suppliers/${WORLD.supplier}/feeds`, { feedId: 'issue-17-overflow', lines: [{ sku: 'A6', quantity: 500_000_000, sequence: 1 }] });
    assert.equal(response.statusCode, 202, response.body);
    const settled = await settlementOf(infra().client, response.json().workflowId);
    assert.deepEqual(settled, { state: 'closed' }, 'the feed workflow must end, not retry its activity');
    const [feed] = await stand.database.sql`SELECT id, status FROM supplier_feeds WHERE feed_id = 'issue-17-overflow'`;
    assert.ok(['applied', 'quarantined', 'discarded'].includes(feed.status), `the feed is ${feed.status}`);
    const [line] = await stand.database.sql`SELECT outcome, reason FROM feed_lines WHERE feed_pk = ${feed.id} AND line_no = 1`;
    assert.ok(line && ['held', 'rejected'].includes(line.outcome), `line 1: ${JSON.stringify(line)}`);
    assert.ok((line.reason ?? '').length > 0, 'the line says why');
  });

  describe('3. PUT /v1/suppliers/:id/sku-map refuses what it cannot store, naming it', () => {
    it('a unit factor of 3,000,000,000', async () => {
      const response = await stand.sendJson('PUT', `/v1/suppliers/${WORLD.supplier}/sku-map`, { entries: [{ supplierSku: 'BIG', sku: 'W-1', unitFactor: 3_000_000_000 }] });
      assertRefusedNaming(response, [400, 422], /^entries\.0\.unitFactor$/);
    });

    it('the same supplier SKU twice in one request', async () => {
      const response = await stand.sendJson('PUT', `/v1/suppliers/${WORLD.supplier}/sku-map`, { entries: [{ supplierSku: 'TWICE', sku: 'W-1' }, { supplierSku: 'TWICE', sku: 'W-2' }] });
      assertRefusedNaming(response, [400, 422], /^entries\.1\.supplierSku$/);
    });

    it('a supplier never registered: 404', async () => {
      const response = await stand.sendJson('PUT', '/v1/suppliers/never-registered/sku-map', { entries: [{ supplierSku: 'A1', sku: 'W-1' }] });
      assertRefusedNaming(response, [404], /^supplierId$/);
    });
  });

  it('4. PUT /v1/ownership refuses an acknowledge or resolution SLA over 2^31−1 seconds, naming it, and changes nothing', async () => {
    const before = (await stand.sendJson('GET', '/v1/ownership')).json();
    const rule = { owner: 'ops', backup: 'buyer', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' };
    for (const [field, slas] of [
      ['ackSla', { ackSla: 2 ** 31 }],
      ['resolutionSla', { resolutionSla: '24856d' }],
    ] as const) {
      const response = await stand.sendJson('PUT', '/v1/ownership', { owners: WORLD.owners, rules: [{ ...rule, ...slas }] });
      assertRefusedNaming(response, [400, 422], new RegExp(`^rules\\.0\\.${field}$`));
    }
    assert.deepEqual((await stand.sendJson('GET', '/v1/ownership')).json(), before);
  });

  it('5. refuses a feed id sent again with different content (409), and answers the same content as the first time', async () => {
    const url = `/v1/suppliers/${WORLD.supplier}/feeds`;
    const original = { feedId: 'issue-17-same-id', lines: [{ sku: 'A1', quantity: 5, sequence: 1000 }] };
    const first = await stand.sendJson('POST', url, original);
    assert.equal(first.statusCode, 202, first.body);
    const different = await stand.sendJson('POST', url, { ...original, lines: [{ sku: 'A1', quantity: 7, sequence: 1001 }] });
    assertRefusedNaming(different, [409], /^feedId$/);
    const same = await stand.sendJson('POST', url, original);
    assert.equal(same.statusCode, 202, same.body);
    assert.deepEqual(same.json(), { ...first.json(), new: false });
  });

  it('6. refuses an order event id reused for a different order (409), starting nothing for it', async () => {
    const placed = (orderId: string) => ({ type: 'order.placed', eventId: 'issue-17-reused', orderId, channel: 'shop', location: 'WH1', lines: [{ sku: 'W-1', quantity: 1 }] });
    const first = await stand.sendJson('POST', '/v1/orders/events', placed('issue-17-a'));
    assert.equal(first.statusCode, 202, first.body);
    const reused = await stand.sendJson('POST', '/v1/orders/events', placed('issue-17-b'));
    assertRefusedNaming(reused, [409], /^eventId$/);
    await assert.rejects(infra().client.workflow.getHandle('order/shop/issue-17-b').describe(), WorkflowNotFoundError);
  });

  describe('7. refuses ids that are a client bug (null, undefined, blanks, 500 characters) in the path with 400, naming the parameter', () => {
    const IDS = ['null', 'undefined', '%20', '%20%20%20', 'x'.repeat(500)];
    const routes: { method: 'GET' | 'POST' | 'PUT'; url: (id: string) => string; parameter: string; body?: unknown }[] = [
      { method: 'PUT', url: (id) => `/v1/suppliers/${id}`, parameter: 'supplierId', body: { name: 'Someone', location: 'WH1' } },
      { method: 'PUT', url: (id) => `/v1/suppliers/${id}/sku-map`, parameter: 'supplierId', body: { entries: [{ supplierSku: 'A1', sku: 'W-1' }] } },
      { method: 'POST', url: (id) => `/v1/suppliers/${id}/feeds`, parameter: 'supplierId', body: { lines: [] } },
      { method: 'GET', url: (id) => `/v1/suppliers/${id}/feeds/f-1`, parameter: 'supplierId' },
      { method: 'GET', url: (id) => `/v1/orders/${id}`, parameter: 'orderId' },
      { method: 'POST', url: (id) => `/v1/orders/${id}/fulfilment-retries`, parameter: 'orderId', body: { by: 'ops', reason: 'try again' } },
    ];
    for (const route of routes) {
      it(`${route.method} ${route.url(`:${route.parameter}`)}`, async () => {
        const wrong: string[] = [];
        for (const id of IDS) {
          const mark = await stand.apiWriteMark();
          const response = await stand.sendJson(route.method, route.url(id), route.body);
          const named = (response.json().issues ?? []).some((i: { field: string }) => i.field === route.parameter);
          const writes = await stand.apiWritesSince(mark);
          if (response.statusCode !== 400 || !named || writes.length > 0) wrong.push(`${id.slice(0, 20)}: ${response.statusCode} ${response.body.slice(0, 150)}${writes.length > 0 ? `, wrote ${writes}` : ''}`);
        }
        assert.deepEqual(wrong, []);
      });
    }
  });

  it('8. archives a supplier (POST /v1/suppliers/:id/archive), then refuses its feeds with 409 supplier_archived', async () => {
    assert.equal((await stand.sendJson('PUT', '/v1/suppliers/issue-17-gone', { name: 'Gone Ltd', location: 'WH1' })).statusCode, 200);
    const archived = await stand.sendJson('POST', '/v1/suppliers/issue-17-gone/archive', { by: 'ops', reason: 'contract ended' });
    assert.equal(archived.statusCode, 200, archived.body);
    const feed = await stand.sendJson('POST', '/v1/suppliers/issue-17-gone/feeds', { lines: [{ sku: 'A1', quantity: 1, sequence: 1 }] });
    assert.equal(feed.statusCode, 409, feed.body);
    assert.equal(feed.json().error, 'supplier_archived');
    const [{ n }] = await stand.database.sql`SELECT count(*)::int AS n FROM supplier_feeds WHERE supplier_id = 'issue-17-gone'`;
    assert.equal(n, 0, 'nothing stored for an archived supplier');
  });

  it('9. refuses a cart hold that would take a backorderable balance past what a balance can hold, holding nothing', async () => {
    const hold = (cartId: string) =>
      stand.sendJson('POST', '/v1/reservations', { cartId, channel: 'shop', location: 'WH2', lines: [{ sku: WORLD.backorderableSku, quantity: 1_000_000_000 }], ttl: '1h' });
    const answers = [];
    for (const cartId of ['issue-17-huge-1', 'issue-17-huge-2', 'issue-17-huge-3']) answers.push(await hold(cartId));
    const refused = answers.find((a) => a.statusCode >= 400);
    assert.ok(refused, `a third billion must not fit: ${answers.map((a) => a.statusCode).join()}`);
    assertRefusedNaming(refused, [400, 409, 422], /lines/);
    assert.match(refused.json().message, /quantity_out_of_range|more than|beyond/);
    const heldCarts = answers.filter((a) => a.statusCode === 201).length;
    const [{ reserved }] = await stand.database.sql`
      SELECT coalesce(sum(quantity), 0)::bigint AS reserved FROM reservations WHERE order_ref LIKE 'cart/issue-17-huge-%' AND status = 'active'`;
    assert.equal(Number(reserved), heldCarts * 1_000_000_000, 'only the holds answered 201 hold anything');
  });
});
