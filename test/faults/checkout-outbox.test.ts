import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { addToCatalogue } from '../../db/catalogue';
import { getStockLevels } from '../../db/levels';
import { replaceOwnership } from '../../db/ownership';
import { applyStockOperation } from '../../db/stock';
import { freePort, waitFor } from '../../runtime/wait';
import { OrderEvent } from '../../schemas/orders';
import { StockOperation } from '../../schemas/stock';
import { receiveOrderEvent, relayUndeliveredOrderEvents } from '../../services/orders';
import { createTestDatabase, infra, servicesFor, startTestWorker } from '../harness';
import { assertLedgerMatchesBalances } from '../ledger-assertions';

describe('fault: Temporal cannot be reached when orders are answered at checkout', () => {
  it('answers every buyer from Postgres, and the outbox relay starts each order once Temporal is reachable', async () => {
    const database = await createTestDatabase();
    const worker = await startTestWorker(database, 'outbox');
    // A Temporal address nobody listens on: every start the API tries after its answers is lost.
    // No retry interceptor: a retry timer still pending when the connection closes would throw
    // outside any promise; without it a call in flight at close just fails, and the relay has it.
    const unreachable = await Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] });
    try {
      await replaceOwnership(database.db, {
        owners: [{ id: 'ops', name: 'Ops', contact: 'ops@example.com' }],
        rules: [{ owner: 'ops', backup: 'ops', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' }],
      });
      await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Outbox', skus: ['OUT-1'] }] });
      await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: 'outbox/stock', sku: 'OUT-1', location: 'WH1', quantity: 3 }));
      const down = servicesFor(database, worker.taskQueue, { client: new Client({ connection: unreachable }) });
      const receipts = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          receiveOrderEvent(down, OrderEvent.parse({ type: 'order.placed', eventId: `outbox-${i}`, orderId: `outbox-${i}`, channel: 'shop', location: 'WH1', lines: [{ sku: 'OUT-1', quantity: 1 }] })).then((r) => r.receipt),
        ),
      );
      assert.deepEqual(receipts.map((r) => r.placement?.status).sort(), ['rejected', 'rejected', 'reserved', 'reserved', 'reserved']);
      assert.equal((await infra().client.workflow.count(`WorkflowId STARTS_WITH 'order/shop/outbox-'`)).count, 0);
      const [pending] = await database.sql`SELECT count(*)::int AS n FROM order_events WHERE delivered_at IS NULL`;
      assert.equal(pending.n, 5, 'every answered event is waiting in the outbox');

      const up = servicesFor(database, worker.taskQueue);
      assert.equal(await relayUndeliveredOrderEvents(up, 0), 5);
      const states = await waitFor('every order to take its answer over', async () => {
        const rows = await database.sql`SELECT order_id, state FROM orders WHERE order_id LIKE 'outbox-%' AND state IN ('reserved', 'rejected') ORDER BY order_id`;
        return rows.length === 5 ? rows : undefined;
      });
      const answered = Object.fromEntries(receipts.map((r, i) => [`outbox-${i}`, r.placement?.status]));
      for (const row of states) assert.equal(row.state, answered[row.order_id], row.order_id);
      assert.equal(await relayUndeliveredOrderEvents(up, 0), 0, 'a delivered event is not relayed again');
      assert.deepEqual((await getStockLevels(database.db, 'OUT-1'))?.total, { onHand: 3, reserved: 3, committed: 0, incoming: 0, available: 0 });
      const [held] = await database.sql`SELECT count(*)::int AS n FROM reservations WHERE order_ref LIKE 'order/shop/outbox-%'`;
      assert.equal(held.n, 3, 'no reservation made twice');
      await assertLedgerMatchesBalances(database);
    } finally {
      await unreachable.close();
      await worker.stop();
      await database.close();
    }
  });
});
