import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { importSnapshot } from '../db/reconciliation';
import { CsvFormatError } from '../domain/csv';
import { Refusal } from '../domain/refusal';
import { snapshotLinesFromCsv } from '../domain/snapshot-csv';
import { SnapshotImport, type ReconciliationReport } from '../schemas/reconciliation';
import type { Services } from './context';
import { resultWithin } from './outcome';
import type { dailyReconciliation } from '../workflows/daily-reconciliation';
import { StockflowFlow } from '../workflows/search-attributes';
import { workflowIds } from '../domain/keys';

/** Runs the daily reconciliation now, outside its schedule (`stockflow reconcile`); every request is a run of its own. */
export function startReconciliationNow(client: Client, taskQueue: string, now = new Date()): Promise<WorkflowHandle<typeof dailyReconciliation>> {
  return client.workflow.start<typeof dailyReconciliation>('dailyReconciliation', {
    taskQueue,
    workflowId: workflowIds.manualReconciliation(now, randomUUID().slice(0, 8)),
    typedSearchAttributes: [{ key: StockflowFlow, value: 'dailyReconciliation' }],
    staticSummary: 'Reconciliation run on request',
  });
}

/** A reconciliation run on request: its report if it finishes within `waitMs`, else the workflow to look up later. */
export async function runReconciliationNow(s: Services, waitMs: number): Promise<{ report: ReconciliationReport } | { workflowId: string }> {
  const handle = await startReconciliationNow(s.client, s.taskQueue);
  const report = await resultWithin<ReconciliationReport>(handle, waitMs);
  return report ? { report } : { workflowId: handle.workflowId };
}

export type SnapshotUpload = { format: 'json'; snapshot: SnapshotImport } | { format: 'csv'; text: string; source?: string; takenAt?: string };

/** Stores a system-of-record snapshot for the next reconciliation; a CSV one is read and validated like JSON. */
export async function importSystemSnapshot(s: Services, upload: SnapshotUpload): Promise<{ snapshotId: number; lines: number }> {
  const snapshot = upload.format === 'json' ? upload.snapshot : SnapshotImport.parse({ source: upload.source, takenAt: upload.takenAt, lines: csvLines(upload.text) });
  return importSnapshot(s.db, snapshot, upload.format);
}

function csvLines(text: string): Record<string, unknown>[] {
  try {
    return snapshotLinesFromCsv(text);
  } catch (error) {
    if (error instanceof CsvFormatError) throw new Refusal('invalid_snapshot', error.message);
    throw error;
  }
}
