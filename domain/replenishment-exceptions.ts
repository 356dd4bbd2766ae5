import { exceptionSubjects } from './keys';
import type { PurchaseSuggestion } from '../schemas/replenishment';
import type { RaiseExceptionInput } from '../schemas/exceptions';

/** The exception type a purchase suggestion is held as; config/ownership.json gives it to purchasing. */
export const PURCHASE_SUGGESTION = 'purchase_suggestion';

/** A purchase suggestion held for the buyer: the ownership rules pick the owner and SLAs, escalation follows. */
export function suggestionException(s: Pick<PurchaseSuggestion, 'id' | 'runKey' | 'supplierId' | 'value' | 'currency' | 'lines'>): RaiseExceptionInput {
  const value = `${s.value.toFixed(2)}${s.currency ? ` ${s.currency}` : ''}`;
  return {
    type: PURCHASE_SUGGESTION,
    subject: exceptionSubjects.purchaseSuggestion(s.runKey, s.supplierId),
    severity: 'medium',
    summary: `Purchase suggestion ${s.id} for ${s.supplierId}: ${s.lines.length} line(s), ${value}`,
    source: 'replenishment',
    supplierId: s.supplierId,
    context: { suggestionId: s.id, runKey: s.runKey, value: s.value, currency: s.currency, lines: s.lines.map((l) => ({ lineNo: l.lineNo, sku: l.sku, location: l.location, quantity: l.quantity, reason: l.reason })) },
  };
}
