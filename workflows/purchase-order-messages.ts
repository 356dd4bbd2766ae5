import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PurchaseOrderStatus } from '../schemas/purchase-orders';

/** Told by the service after a receipt or a close committed: the order's status as the database now has it. */
export const purchaseOrderChangedSignal = defineSignal<[{ status: PurchaseOrderStatus }]>('purchaseOrderChanged');

export interface PurchaseOrderState {
  status: PurchaseOrderStatus;
  /** Sent to the supplier's order webhook; false while sending or when it has none. */
  sent: boolean;
  /** Why it could not be sent, when retrying cannot help (no signing secret). */
  sendProblem?: string;
  late: boolean;
}

export const purchaseOrderStateQuery = defineQuery<PurchaseOrderState>('purchaseOrderState');

export interface PurchaseOrderInput {
  poNumber: string;
  /** ISO date-time the goods are due. */
  expectedAt: string;
  /** How long past that an order not received in full waits before it is late (STOCKFLOW_PO_GRACE_DAYS). */
  graceSeconds: number;
}
