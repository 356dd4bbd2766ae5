import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
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
