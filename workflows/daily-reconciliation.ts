import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RaiseExceptionInput } from '../schemas/exceptions';
import type { ReconciliationDelta, ReconciliationReport } from '../schemas/reconciliation';
import { exceptionSubjects, idempotencyKeys } from '../domain/keys';

const { reconcileStock, raiseException } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * The daily check of the books (run by a Temporal Schedule, or now with `stockflow reconcile`):
 * balances against the ledger, active reservations against live orders, our on-hand against the
 * system of record. Each delta goes to the SKU's owner as an exception with the diff; a delta
 * still open from an earlier run is joined, not duplicated. The report is stored and returned.
 */
export async function dailyReconciliation(): Promise<ReconciliationReport> {
  const report = await reconcileStock();
  await Promise.all(report.deltas.map((delta) => raiseException(exceptionFor(delta, workflowInfo().workflowId))));
  return report;
}

function exceptionFor(delta: ReconciliationDelta, runKey: string): RaiseExceptionInput {
  const common = { type: 'reconciliation_delta', source: runKey, sku: delta.sku, location: delta.location, context: { delta, run: runKey } };
  switch (delta.kind) {
    case 'ledger_drift':
      return {
        ...common,
        subject: exceptionSubjects.ledgerDelta(delta.sku, delta.location),
        severity: 'critical',
        summary: `${delta.sku} at ${delta.location}: the balance disagrees with its ledger (${Object.entries(delta.buckets)
          .map(([bucket, d]) => `${bucket} ${d.balance} vs ledger ${d.ledger}`)
          .join(', ')})`,
      };
    case 'orphan_reservation':
      return {
        ...common,
        subject: patched('orphan-subject-by-reservation-key')
          ? exceptionSubjects.orphanReservation(delta.reservationKey)
          : exceptionSubjects.orphanReservationById(delta.reservationId),
        severity: 'medium',
        summary: `${delta.quantity} × ${delta.sku} at ${delta.location} is reserved for ${delta.orderRef ?? 'no order'}${delta.orderState ? ` (${delta.orderState})` : ''}, which holds nothing any more: release it?`,
        heldChange: { kind: 'release', idempotencyKey: idempotencyKeys.reconciliationRelease(delta.reservationId), reservationKey: delta.reservationKey, outcome: 'expired', actor: 'reconciliation' },
      };
    case 'snapshot_delta':
      return {
        ...common,
        subject: exceptionSubjects.snapshotDelta(delta.sku, delta.location),
        severity: 'high',
        summary: `${delta.sku} at ${delta.location}: we have ${delta.ours} on hand, the system of record says ${delta.theirs} (${delta.difference > 0 ? '+' : ''}${delta.difference}); correct ours?`,
        // Approving posts the difference as found at the run; the approver confirms it with evidence (a count).
        heldChange: {
          kind: 'adjust',
          idempotencyKey: idempotencyKeys.reconciliationCorrection(runKey, delta.sku, delta.location),
          sku: delta.sku,
          location: delta.location,
          delta: delta.difference,
          reasonCode: 'correction',
          note: `reconciliation ${runKey}: system of record says ${delta.theirs}, we had ${delta.ours}`,
          actor: 'reconciliation',
        },
        requiresEvidence: true,
      };
  }
}
