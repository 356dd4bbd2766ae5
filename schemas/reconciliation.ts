import { z } from 'zod';
import { LocationCode, Sku } from './common';

export const SnapshotLine = z.object({
  sku: Sku,
  location: LocationCode,
  onHand: z.number({ error: 'must be a number' }).int('must be a whole number of base units'),
});
export type SnapshotLine = z.infer<typeof SnapshotLine>;

/** An on-hand snapshot from the system of record (ERP, WMS): the JSON body of `POST /v1/reconciliation/snapshots`. */
export const SnapshotImport = z.object({
  source: z.string().trim().min(1, 'must name the system of record').max(100),
  takenAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
  lines: z.array(SnapshotLine).min(1, 'must list at least one line').max(100_000, 'must list at most 100,000 lines'),
});
export type SnapshotImport = z.infer<typeof SnapshotImport>;

/** The query of a CSV import (`content-type: text/csv`, header `sku,location,on_hand`). */
export const SnapshotCsvQuery = SnapshotImport.pick({ source: true, takenAt: true });

/** One thing the reconciliation found wrong. */
export type ReconciliationDelta =
  | { kind: 'ledger_drift'; sku: string; location: string; buckets: Record<string, { balance: number; ledger: number }> }
  | { kind: 'orphan_reservation'; reservationId: number; reservationKey: string; sku: string; location: string; quantity: number; orderRef: string | null; orderState: string | null }
  | { kind: 'snapshot_delta'; sku: string; location: string; ours: number; theirs: number; difference: number };

export interface ReconciliationReport {
  runId: number;
  runKey: string;
  snapshotId: number | null;
  checked: number;
  matched: number;
  deltas: ReconciliationDelta[];
  ranAt: string;
}
