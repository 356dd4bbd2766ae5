import { decideSuggestion, listPolicies, listSuggestions, runReplenishment, savePolicies, type RunOutcome } from '../db/replenishment';
import type { ApproveSuggestion, PurchaseSuggestion, ReorderPolicies, ReorderPolicyQuery, StoredReorderPolicy } from '../schemas/replenishment';
import type { Services } from './context';

export function putReorderPolicies(s: Services, request: ReorderPolicies): Promise<{ saved: number }> {
  return savePolicies(s.db, request);
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
  return decideSuggestion(s.db, id, { decision: 'approve', by: body.by, quantities: body.quantities });
}

export function rejectPurchaseSuggestion(s: Services, id: number, by: string): Promise<PurchaseSuggestion> {
  return decideSuggestion(s.db, id, { decision: 'reject', by });
}
