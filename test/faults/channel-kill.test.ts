import assert from 'node:assert/strict';
import { addToCatalogue } from '../../db/catalogue';
import { replaceOwnership } from '../../db/ownership';
import { applyStockOperation } from '../../db/stock';
import { waitFor } from '../../runtime/wait';
import { ChannelRegistration } from '../../schemas/channels';
import { StockOperation } from '../../schemas/stock';
import { registerChannel } from '../../services/channels';
import { WebhookReceiver } from '../contract/webhook-receiver';
import { createTestDatabase, infra, servicesFor, uniqueTaskQueue } from '../harness';
import { spawnWorker, type WorkerProcess } from './processes';

const SKUS = 50;
const CHANGES = Number(process.env.FAULT_CHANNEL_CHANGES ?? 2_000);
const SECRET = 'whsec-fault-suite-2b71';

describe('fault: the worker is killed with SIGKILL between committed changes and their pushes', () => {
  it(`publishes the latest figure of every SKU after ${CHANGES} changes, some committed while no worker ran`, async () => {
    const database = await createTestDatabase();
    const taskQueue = uniqueTaskQueue('channel-kill');
    const receiver = new WebhookReceiver(SECRET);
    const url = await receiver.start();
    process.env.STOCKFLOW_FAULT_HOOK_SECRET = SECRET;
    const env = { temporalAddress: infra().temporalAddress, databaseUrl: database.url, taskQueue };
    let worker: WorkerProcess | undefined;
    let n = 0;
    const skus = Array.from({ length: SKUS }, (_, i) => `CH-${i}`);
    const change = (i: number) =>
      applyStockOperation(
        database.db,
        StockOperation.parse(
          i % 3 === 0
            ? { kind: 'issue', idempotencyKey: `kill/${++n}`, sku: skus[i % SKUS], location: 'WH1', quantity: 1 }
            : { kind: 'receive', idempotencyKey: `kill/${++n}`, sku: skus[i % SKUS], location: 'WH1', quantity: 2 },
        ),
      );
    try {
      await addToCatalogue(database.db, { locations: [{ code: 'WH1', name: 'Warehouse 1' }], items: [{ name: 'Channelled', skus }] });
      await replaceOwnership(database.db, {
        owners: [{ id: 'ops', name: 'Ops', contact: 'ops@example.com' }],
        rules: [{ owner: 'ops', backup: 'ops', escalation: 'ops', ackSla: '1h', resolutionSla: '1d' }],
      });
      for (const sku of skus) await applyStockOperation(database.db, StockOperation.parse({ kind: 'receive', idempotencyKey: `kill/seed/${sku}`, sku, location: 'WH1', quantity: 1000 }));
      worker = await spawnWorker(env);
      await registerChannel(
        servicesFor(database, taskQueue),
        ChannelRegistration.parse({
          id: 'hook',
          kind: 'webhook',
          name: 'Hook',
          locations: ['WH1'],
          settings: { url },
          secretRef: 'env:STOCKFLOW_FAULT_HOOK_SECRET',
          buffer: { share: 0.8 },
          skus: skus.map((sku) => ({ sku, externalId: sku })),
        }),
      );
      await waitFor('the first full publication', async () => (receiver.latest.size === SKUS ? true : undefined), { timeoutMs: 60_000 });

      const wave = (from: number, to: number) => Promise.all(Array.from({ length: to - from }, (_, k) => change(from + k)));
      const firstWave = wave(0, CHANGES / 2);
      await waitFor('pushes of the first wave', async () => (receiver.received.length > SKUS + 20 ? true : undefined), { timeoutMs: 60_000 });
      await worker.kill('SIGKILL');
      await firstWave;
      // Committed with no worker running: only the outbox knows these changes happened.
      await wave(CHANGES / 2, CHANGES);
      const [{ pending }] = await database.sql<{ pending: number }[]>`SELECT count(*)::int AS pending FROM availability_changes c, channels ch WHERE ch.id = 'hook' AND (c.txid, c.seq) > (ch.cursor_txid, ch.cursor_seq)`;
      assert.ok(pending > 0, 'changes committed after the kill wait in the outbox');
      worker = await spawnWorker(env);

      const expected = new Map<string, number>();
      for (const row of await database.sql<{ sku: string; available: number }[]>`
        SELECT v.sku, b.available FROM stock_balances b JOIN variants v ON v.id = b.variant_id`) {
        expected.set(row.sku, Math.floor((row.available * 8) / 10));
      }
      await waitFor(
        'every SKU to show its latest figure',
        async () => (skus.every((sku) => receiver.latest.get(sku)?.available === expected.get(sku)) ? true : undefined),
        { timeoutMs: 180_000, intervalMs: 250 },
      );
      assert.equal(receiver.outOfOrder, 0, 'no older figure after a newer one, across the kill');
      assert.equal(receiver.rejected, 0);
      await waitFor('nothing pending', async () => {
        const [row] = await database.sql<{ left: number }[]>`SELECT count(*)::int AS left FROM channel_pending WHERE channel_id = 'hook'`;
        return row.left === 0 ? true : undefined;
      });
      assert.ok(receiver.received.length < CHANGES + SKUS, `${receiver.received.length} pushes for ${CHANGES} changes: coalesced`);
    } finally {
      await worker?.kill('SIGTERM');
      await receiver.stop();
      await database.close();
    }
  });
});
