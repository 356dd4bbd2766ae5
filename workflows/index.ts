export { exceptionHold } from './exception-hold';
export { orderReconciliation } from './order-reconciliation';
export { ownerEscalation } from './owner-escalation';
export { stockMovement } from './stock-movement';
export { supplierFeedIngest } from './supplier-feed-ingest';
