import { Context } from '@temporalio/activity';
import type { Db } from '../db/connection';
import { reconcile } from '../db/reconciliation';
import type { ReconciliationReport } from '../schemas/reconciliation';
import { idempotencyKeys } from '../domain/keys';

export function createReconciliationActivities(db: Db) {
  return {
    /** Runs the checks once per workflow run and stores the report; a retry returns the stored one. */
    async reconcileStock(): Promise<ReconciliationReport> {
      const { workflowId, runId } = Context.current().info.workflowExecution ?? {};
      if (!workflowId || !runId) throw new Error('reconcileStock runs only as an activity of a workflow');
      return reconcile(db, idempotencyKeys.reconciliationRun(workflowId, runId));
    },
  };
}
