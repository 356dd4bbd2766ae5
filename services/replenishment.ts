import { WorkflowNotFoundError } from '@temporalio/client';
import { latestDecision } from '../db/exceptions';
import { decideSuggestion, listPolicies, listSuggestions, runReplenishment, savePolicies, type RunOutcome } from '../db/replenishment';
import { exceptionSubjects, workflowIds } from '../domain/keys';
import { Refusal } from '../domain/refusal';
import { describeCsvProblems, policiesFromCsv } from '../domain/reorder-policy-csv';
import { PURCHASE_SUGGESTION } from '../domain/replenishment-exceptions';
import type { ApproveSuggestion, PurchaseSuggestion, RejectSuggestion, ReorderPolicies, ReorderPolicyQuery, StoredReorderPolicy } from '../schemas/replenishment';
import type { Services } from './context';
import { decideException } from './exceptions';
import { startPurchaseOrder } from './purchase-orders';

export function putReorderPolicies(s: Services, request: ReorderPolicies): Promise<{ saved: number }> {
  return savePolicies(s.db, request);
}

/** Policies from a CSV file, all or none: every bad cell is named by its row and column, and nothing is saved. */
export function putReorderPoliciesCsv(s: Services, csv: string, by: string): Promise<{ saved: number }> {
  const read = policiesFromCsv(csv);
  if ('problems' in read) throw new Refusal('invalid_lines', `the CSV has ${read.problems.length} problem(s), nothing was saved: ${describeCsvProblems(read.problems)}`);
  if (read.policies.length === 0) throw new Refusal('invalid_lines', 'the CSV lists no policies: nothing was saved');
  return savePolicies(s.db, { by, policies: read.policies });
}

export function getReorderPolicies(s: Services, query: ReorderPolicyQuery): Promise<StoredReorderPolicy[]> {
  return listPolicies(s.db, query);
}

/** The day's run as of `at`; a second call on the same UTC day returns what the first stored. */
export function replenish(s: Services, at: Date, defaultWindowDays: number): Promise<RunOutcome> {
  return runReplenishment(s.db, at, defaultWindowDays);
}

export function getPurchaseSuggestions(s: Services, query: { status?: string }): Promise<PurchaseSuggestion[]> {
  return listSuggestions(s.db, query);
}

export function approvePurchaseSuggestion(s: Services, id: number, body: ApproveSuggestion): Promise<PurchaseSuggestion> {
  return decide(s, id, { action: 'approve', by: body.by, reason: body.reason ?? 'purchase suggestion approved' }, body.quantities);
}

export function rejectPurchaseSuggestion(s: Services, id: number, body: RejectSuggestion): Promise<PurchaseSuggestion> {
  return decide(s, id, { action: 'reject', by: body.by, reason: body.reason ?? 'purchase suggestion rejected' });
}

/**
 * A suggestion is decided through the exception that holds it: the exception's workflow checks
 * that the person is entitled (owner, backup, escalation, assignee or an approver) and closes it,
 * stopping its SLA clock; only then is the suggestion marked decided, and an approved one's
 * purchase order written, in one transaction. Then the order's workflow starts.
 *
 * Retrying is safe at every step: an exception this person already decided the same way (the
 * answer was lost, or a concurrent request of theirs got there first) is not decided again, and
 * deciding a suggestion again the same way answers with it and starts its order's workflow if
 * that start was lost.
 */
async function decide(s: Services, id: number, decision: { action: 'approve' | 'reject'; by: string; reason: string }, quantities?: ApproveSuggestion['quantities']): Promise<PurchaseSuggestion> {
  const [suggestion] = await listSuggestions(s.db, { id });
  if (!suggestion) throw new Refusal('not_found', `no purchase suggestion ${id}`, 'id');
  const decided = decision.action === 'approve' ? 'approved' : 'rejected';
  const sameDecision = (d: { status: string; decidedBy: string | null } | undefined) => d?.status === decided && d.decidedBy === decision.by;
  if (sameDecision(suggestion)) return withOrderStarted(s, suggestion);
  if (suggestion.status !== 'open') throw new Refusal('already_resolved', `purchase suggestion ${id} was already ${suggestion.status} by ${suggestion.decidedBy}`, 'id');
  const lineNos = new Set(suggestion.lines.map((l) => l.lineNo));
  const stray = (quantities ?? []).findIndex((e) => !lineNos.has(e.lineNo));
  if (stray >= 0) throw new Refusal('invalid_lines', `quantities.${stray}.lineNo: suggestion ${id} has no line ${quantities?.[stray].lineNo}`, `quantities.${stray}.lineNo`);

  const workflowId = workflowIds.exception(PURCHASE_SUGGESTION, exceptionSubjects.purchaseSuggestion(suggestion.runKey, suggestion.supplierId));
  if (!sameDecision(await latestDecision(s.db, workflowId))) {
    const result = await decideException(s, workflowId, decision).catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) throw new Refusal('not_waiting', `purchase suggestion ${id} is not held for a buyer (no exception ${workflowId})`, 'id');
      throw error;
    });
    // Refused because the same person's concurrent request (a double click) decided it a moment ago: that is this decision.
    if (!result.accepted && !sameDecision(await latestDecision(s.db, workflowId))) throw new Refusal('decision_refused', result.refusal);
  }
  const marked = await decideSuggestion(s.db, id, decision.action === 'approve' ? { decision: 'approve', by: decision.by, at: new Date(), quantities } : { decision: 'reject', by: decision.by });
  return withOrderStarted(s, marked);
}

async function withOrderStarted(s: Services, suggestion: PurchaseSuggestion): Promise<PurchaseSuggestion> {
  if (suggestion.purchaseOrder) await startPurchaseOrder(s, suggestion.purchaseOrder);
  return suggestion;
}
