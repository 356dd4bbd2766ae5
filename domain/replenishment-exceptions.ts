import { exceptionSubjects } from './keys';
import type { PurchaseOrderView } from '../schemas/purchase-orders';
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

/** The exception type of a purchase order not received in full by its expected date plus the grace; config/ownership.json gives it to purchasing. */
export const PURCHASE_ORDER_LATE = 'purchase_order_late';

/** A late purchase order for the buyer: what is still missing from which line, to chase with the supplier. */
export function lateOrderException(order: Pick<PurchaseOrderView, 'poNumber' | 'supplierId' | 'expectedAt' | 'lines'>): RaiseExceptionInput {
  const missing = order.lines.filter((l) => l.remaining > 0);
  return {
    type: PURCHASE_ORDER_LATE,
    subject: exceptionSubjects.purchaseOrderLate(order.poNumber),
    severity: 'medium',
    summary: `Purchase order ${order.poNumber} from ${order.supplierId} is late: ${missing.reduce((n, l) => n + l.remaining, 0)} unit(s) on ${missing.length} line(s) not received, expected ${order.expectedAt}`,
    source: 'purchasing',
    supplierId: order.supplierId,
    context: { poNumber: order.poNumber, expectedAt: order.expectedAt, missing: missing.map((l) => ({ lineNo: l.lineNo, sku: l.sku, location: l.location, ordered: l.ordered, received: l.received, remaining: l.remaining })) },
  };
}
