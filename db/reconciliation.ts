import { desc, eq, sql } from 'drizzle-orm';
import type { ReconciliationDelta, ReconciliationReport, SnapshotImport, SnapshotLine } from '../schemas/reconciliation';
import type { Db } from './connection';
import { reconciliationRuns, reconciliationSnapshots } from './schema';

/** Order states in which the order's workflow still holds its reservations active. */
const LIVE_ORDER_STATES = new Set(['received', 'validated', 'reserved', 'paid', 'fulfilment_requested']);
const BUCKETS = ['onHand', 'reserved', 'committed', 'incoming'] as const;
type Bucket = (typeof BUCKETS)[number];

type BalanceRow = { sku: string; location: string } & Record<Bucket, number> & { ledger: Record<Bucket, number> };
type ActiveReservationRow = {
  id: number;
  key: string;
  sku: string;
  location: string;
  quantity: number;
  orderRef: string | null;
  orderState: string | null;
};

export async function importSnapshot(db: Db, snapshot: SnapshotImport, format: 'csv' | 'json'): Promise<{ snapshotId: number; lines: number }> {
  const [row] = await db
    .insert(reconciliationSnapshots)
    .values({ source: snapshot.source, format, lines: snapshot.lines, takenAt: snapshot.takenAt ? new Date(snapshot.takenAt) : new Date() })
    .returning({ id: reconciliationSnapshots.id });
  return { snapshotId: row.id, lines: snapshot.lines.length };
}

/**
 * Checks the books and stores the report under `runKey` (a retried run gets the stored report):
 * every balance equals the sum of its ledger movements, every active reservation belongs to a live
 * order, and our on-hand agrees with the latest system-of-record snapshot. The checks read one
 * consistent view of the database.
 */
export async function reconcile(db: Db, runKey: string): Promise<ReconciliationReport> {
  const stored = await findRun(db, runKey);
  if (stored) return stored;
  const { balances, active, snapshot } = await db.transaction(
    async (tx) => ({
      balances: await tx.execute<BalanceRow>(sql`
        SELECT v.sku, l.code AS location, b.on_hand AS "onHand", b.reserved, b.committed, b.incoming,
               jsonb_build_object('onHand', coalesce(m.on_hand, 0), 'reserved', coalesce(m.reserved, 0),
                                  'committed', coalesce(m.committed, 0), 'incoming', coalesce(m.incoming, 0)) AS ledger
        FROM stock_balances b
        JOIN variants v ON v.id = b.variant_id
        JOIN locations l ON l.id = b.location_id
        LEFT JOIN (
          SELECT variant_id, location_id, sum(delta_on_hand)::int AS on_hand, sum(delta_reserved)::int AS reserved,
                 sum(delta_committed)::int AS committed, sum(delta_incoming)::int AS incoming
          FROM stock_movements GROUP BY variant_id, location_id
        ) m USING (variant_id, location_id)
        ORDER BY v.sku, l.code`),
      active: await tx.execute<ActiveReservationRow>(sql`
        SELECT r.id::int AS id, r.idempotency_key AS key, v.sku, l.code AS location, r.quantity, r.order_ref AS "orderRef", o.state AS "orderState"
        FROM reservations r
        JOIN variants v ON v.id = r.variant_id
        JOIN locations l ON l.id = r.location_id
        LEFT JOIN orders o ON o.workflow_id = r.order_ref
        WHERE r.status = 'active'
        ORDER BY r.id`),
      snapshot: (await tx.select().from(reconciliationSnapshots).orderBy(desc(reconciliationSnapshots.takenAt), desc(reconciliationSnapshots.id)).limit(1))[0],
    }),
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  const snapshotLines = (snapshot?.lines as SnapshotLine[] | undefined) ?? [];
  const deltas: ReconciliationDelta[] = [
    ...balances.flatMap((b): ReconciliationDelta[] => {
      const drifted = BUCKETS.filter((bucket) => b[bucket] !== b.ledger[bucket]);
      if (drifted.length === 0) return [];
      return [{ kind: 'ledger_drift', sku: b.sku, location: b.location, buckets: Object.fromEntries(drifted.map((bucket) => [bucket, { balance: b[bucket], ledger: b.ledger[bucket] }])) }];
    }),
    ...active
      .filter((r) => !r.orderState || !LIVE_ORDER_STATES.has(r.orderState))
      .map((r): ReconciliationDelta => ({ kind: 'orphan_reservation', reservationId: r.id, reservationKey: r.key, sku: r.sku, location: r.location, quantity: r.quantity, orderRef: r.orderRef, orderState: r.orderState })),
    ...snapshotLines.flatMap((line): ReconciliationDelta[] => {
      const ours = balances.find((b) => b.sku === line.sku && b.location === line.location)?.onHand ?? 0;
      return ours === line.onHand ? [] : [{ kind: 'snapshot_delta', sku: line.sku, location: line.location, ours, theirs: line.onHand, difference: line.onHand - ours }];
    }),
  ];
  const checked = balances.length + active.length + snapshotLines.length;
  await db
    .insert(reconciliationRuns)
    .values({ runKey, snapshotId: snapshot?.id ?? null, checked, matched: checked - deltas.length, deltas })
    .onConflictDoNothing({ target: reconciliationRuns.runKey });
  return (await findRun(db, runKey)) as ReconciliationReport;
}

async function findRun(db: Db, runKey: string): Promise<ReconciliationReport | undefined> {
  const [row] = await db.select().from(reconciliationRuns).where(eq(reconciliationRuns.runKey, runKey));
  return row ? toReport(row) : undefined;
}

export async function getRun(db: Db, id: number): Promise<ReconciliationReport | undefined> {
  const [row] = await db.select().from(reconciliationRuns).where(eq(reconciliationRuns.id, id));
  return row ? toReport(row) : undefined;
}

export async function listRuns(db: Db, limit: number): Promise<ReconciliationReport[]> {
  const rows = await db.select().from(reconciliationRuns).orderBy(desc(reconciliationRuns.ranAt), desc(reconciliationRuns.id)).limit(limit);
  return rows.map(toReport);
}

function toReport(row: typeof reconciliationRuns.$inferSelect): ReconciliationReport {
  return {
    runId: row.id,
    runKey: row.runKey,
    snapshotId: row.snapshotId,
    checked: row.checked,
    matched: row.matched,
    deltas: row.deltas as ReconciliationDelta[],
    ranAt: row.ranAt.toISOString(),
  };
}
