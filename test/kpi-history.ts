import { addToCatalogue } from '../db/catalogue';
import type { Database } from '../db/connection';
import { replaceOwnership } from '../db/ownership';
import { applyStockOperation } from '../db/stock';
import { registerSupplier } from '../db/suppliers';
import { StockOperation, type StockOperationInput } from '../schemas/stock';

/**
 * A small history whose every KPI can be worked out by hand: stock moved through the ledger,
 * exceptions, feeds, orders and a reconciliation run written with the timestamps the KPIs measure.
 */
export async function seedKpiHistory(database: Database): Promise<void> {
  const apply = (op: StockOperationInput) => applyStockOperation(database.db, StockOperation.parse(op));
  await replaceOwnership(database.db, {
    owners: [
      { id: 'ivy', name: 'Ivy', contact: 'ivy@example.com', roles: ['inventory', 'approver'] },
      { id: 'rita', name: 'Rita', contact: 'rita@example.com', roles: ['inventory'] },
    ],
    rules: [{ owner: 'ivy', backup: 'rita', escalation: 'rita', ackSla: '1h', resolutionSla: '1d' }],
  });
  await addToCatalogue(database.db, {
    locations: [
      { code: 'WH1', name: 'Warehouse 1' },
      { code: 'SUP', name: 'Supplier stock' },
    ],
    items: [{ name: 'Measured', skus: ['K-1', 'K-2', 'K-3', 'K-4'] }],
  });
  await apply({ kind: 'receive', idempotencyKey: 'k1/in', sku: 'K-1', location: 'WH1', quantity: 10 });
  await apply({ kind: 'issue', idempotencyKey: 'k1/out', sku: 'K-1', location: 'WH1', quantity: 10 });
  await apply({ kind: 'receive', idempotencyKey: 'k1/again', sku: 'K-1', location: 'WH1', quantity: 4 });
  await apply({ kind: 'receive', idempotencyKey: 'k2/in', sku: 'K-2', location: 'WH1', quantity: 20 });
  await apply({ kind: 'adjust', idempotencyKey: 'k2/damaged', sku: 'K-2', location: 'WH1', delta: -3, reasonCode: 'damaged' });
  await apply({ kind: 'adjust', idempotencyKey: 'k2/theft', sku: 'K-2', location: 'WH1', delta: -2, reasonCode: 'theft' });
  await apply({ kind: 'adjust', idempotencyKey: 'k2/found', sku: 'K-2', location: 'WH1', delta: 1, reasonCode: 'found' });
  await apply({ kind: 'cycle_count', idempotencyKey: 'k2/count', sku: 'K-2', location: 'WH1', counted: 16 });
  await apply({ kind: 'receive', idempotencyKey: 'k3/in', sku: 'K-3', location: 'WH1', quantity: 100 });
  await apply({ kind: 'cycle_count', idempotencyKey: 'k3/count', sku: 'K-3', location: 'WH1', counted: 50 });
  await registerSupplier(database.db, { id: 'acme', name: 'Acme', location: 'SUP' });

  const sql = database.sql;
  const MINUTE = 60_000;
  const ago = (ms: number) => new Date(Date.now() - ms);
  const exception = async (e: { subject: string; type: string; owner: string; status: string; openedAgo: number; ackAfter?: number; resolveAfter?: number; orderId?: string; sku?: string; held?: number; supplierId?: string; location?: string }) => {
    const opened = ago(e.openedAgo);
    const after = (ms: number | undefined) => (ms === undefined ? null : new Date(opened.getTime() + ms).toISOString());
    const [row] = await sql`
      INSERT INTO exceptions (workflow_id, run_id, type, subject, severity, summary, status, owner_id, assignee_id, sku, location, supplier_id, order_id, held_change,
                              opened_at, acknowledged_at, resolved_at)
      VALUES (${`exception/${e.type}/${e.subject}`}, ${`run-${e.subject}`}, ${e.type}, ${e.subject}, 'medium', 'seeded', ${e.status}, ${e.owner}, ${e.owner},
              ${e.sku ?? null}, ${e.location ?? 'WH1'}, ${e.supplierId ?? null}, ${e.orderId ?? null},
              ${e.held === undefined ? null : JSON.stringify({ kind: 'set_on_hand', quantity: e.held })}::jsonb,
              ${opened.toISOString()}::timestamptz, ${after(e.ackAfter)}::timestamptz, ${after(e.resolveAfter)}::timestamptz)
      RETURNING id`;
    return Number(row.id);
  };
  await exception({ subject: 'a', type: 'ledger_delta', owner: 'ivy', status: 'open', openedAgo: 120 * MINUTE });
  const late = await exception({ subject: 'b', type: 'ledger_delta', owner: 'rita', status: 'acknowledged', openedAgo: 3 * 1440 * MINUTE, ackAfter: 10 * MINUTE });
  await exception({ subject: 'c', type: 'ledger_delta', owner: 'ivy', status: 'approved', openedAgo: 1440 * MINUTE, ackAfter: 20 * MINUTE, resolveAfter: 60 * MINUTE });
  await exception({ subject: 'shop/o-2/handoff', type: 'order_handoff', owner: 'ivy', status: 'open', openedAgo: 30 * MINUTE, orderId: 'o-2' });
  await exception({ subject: 'acme/f1/line-3', type: 'supplier_feed_line', owner: 'ivy', status: 'open', openedAgo: 5 * MINUTE, sku: 'K-4', held: 70, supplierId: 'acme', location: 'SUP' });
  await sql`INSERT INTO exception_events (exception_id, seq, action, actor, outcome, at) VALUES (${late}, 1001, 'escalate', 'sla-clock', 'accepted', now() - interval '2 days')`;

  const hourAgo = ago(60 * MINUTE);
  const at = (ms: number) => new Date(hourAgo.getTime() + ms).toISOString();
  const [feed] = await sql`
    INSERT INTO supplier_feeds (supplier_id, feed_id, format, content_hash, body, line_count, status, workflow_id, received_at)
    VALUES ('acme', 'f1', 'csv', 'h', 'x', 4, 'applied', 'feed/acme/f1', ${at(0)}::timestamptz) RETURNING id`;
  await sql`
    INSERT INTO feed_lines (feed_pk, line_no, supplier_sku, outcome, quantity, at) VALUES
      (${feed.id}, 1, 'A', 'applied', 5, ${at(2000)}::timestamptz),
      (${feed.id}, 2, 'B', 'applied', 5, ${at(4000)}::timestamptz),
      (${feed.id}, 3, 'C', 'held', 70, ${at(4000)}::timestamptz),
      (${feed.id}, 4, 'D', 'rejected', NULL, ${at(4000)}::timestamptz)`;
  await sql`
    INSERT INTO orders (workflow_id, channel, order_id, state, state_owner_id, location, lines) VALUES
      ('order/shop/o-1', 'shop', 'o-1', 'shipped', 'ivy', 'WH1', ${JSON.stringify([{ sku: 'K-2', quantity: 1 }])}::jsonb),
      ('order/shop/o-2', 'shop', 'o-2', 'paid', 'ivy', 'WH1', ${JSON.stringify([{ sku: 'K-2', quantity: 2 }, { sku: 'K-1', quantity: 3 }])}::jsonb),
      ('order/shop/o-3', 'shop', 'o-3', 'rejected', 'ivy', 'WH1', NULL)`;
  await sql`
    INSERT INTO order_events (channel, event_id, order_id, type, payload, received_at, delivered_at) VALUES
      ('shop', 'e1', 'o-1', 'order.placed', '{}', ${at(0)}::timestamptz, ${at(100)}::timestamptz),
      ('shop', 'e2', 'o-2', 'order.placed', '{}', ${at(0)}::timestamptz, ${at(300)}::timestamptz)`;
  await sql`
    INSERT INTO reconciliation_runs (run_key, checked, matched, deltas, ran_at)
    VALUES ('run-1', 8, 6, ${JSON.stringify([{ kind: 'snapshot_delta' }, { kind: 'ledger_drift' }])}::jsonb, now() - interval '1 day')`;
}
