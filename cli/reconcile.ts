import { loadConfig } from '../runtime/config';
import type { ReconciliationDelta, ReconciliationReport } from '../schemas/reconciliation';
import { ApiClient, apiClientOptions } from './api-client';

export function describeDelta(delta: ReconciliationDelta): string {
  switch (delta.kind) {
    case 'ledger_drift':
      return `ledger drift      ${delta.sku} @ ${delta.location}: ${Object.entries(delta.buckets).map(([b, d]) => `${b} ${d.balance} (ledger ${d.ledger})`).join(', ')}`;
    case 'orphan_reservation':
      return `orphan reservation ${delta.quantity} × ${delta.sku} @ ${delta.location} for ${delta.orderRef ?? 'no order'}${delta.orderState ? ` (${delta.orderState})` : ''}`;
    case 'snapshot_delta':
      return `on-hand delta     ${delta.sku} @ ${delta.location}: ours ${delta.ours}, system of record ${delta.theirs} (${delta.difference > 0 ? '+' : ''}${delta.difference})`;
  }
}

export function formatReport(report: ReconciliationReport): string {
  return [
    `reconciliation run ${report.runId} at ${report.ranAt}${report.snapshotId ? ` against snapshot ${report.snapshotId}` : ' (no snapshot imported)'}`,
    `checked ${report.checked}, matched ${report.matched}, deltas ${report.deltas.length}${report.deltas.length > 0 ? ' (each is an exception for its owner)' : ''}`,
    ...report.deltas.map((d) => `  ${describeDelta(d)}`),
  ].join('\n');
}

/** `stockflow reconcile`: runs the daily reconciliation now and prints its report. */
export async function reconcileCommand(options: { api?: string; wait: string; json?: boolean }): Promise<void> {
  const api = new ApiClient(apiClientOptions(loadConfig(), options.api));
  const response = await api.post(`/v1/reconciliation/runs?wait=${encodeURIComponent(options.wait)}`, undefined, 'operator');
  if (response.status === 202) {
    console.log(`still running: ${response.body.workflowId}; its report will be in GET /v1/reconciliation/runs`);
    return;
  }
  if (response.status !== 200) {
    console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
    process.exitCode = 1;
    return;
  }
  console.log(options.json ? JSON.stringify(response.body, null, 2) : formatReport(response.body));
}
