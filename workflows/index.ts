export { dailyReconciliation } from './daily-reconciliation';
export { exceptionHold } from './exception-hold';
export { kpiAlertCheck, ownerDigest } from './kpi-alerts';
export { orderReconciliation } from './order-reconciliation';
export { ownerEscalation } from './owner-escalation';
export { reservationSweep } from './reservation-sweep';
export { stockMovement } from './stock-movement';
export { supplierFeedIngest } from './supplier-feed-ingest';
