import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ReconciliationReport } from '../schemas/reconciliation';
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
