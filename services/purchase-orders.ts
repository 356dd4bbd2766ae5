import { WorkflowNotFoundError } from '@temporalio/client';
import { closeOrder, createPurchaseOrder, getPurchaseOrder, listPurchaseOrders, receiveAgainstOrder } from '../db/purchase-orders';
import { workflowIds } from '../domain/keys';
import { Refusal } from '../domain/refusal';
import type { ClosePurchaseOrder, NewPurchaseOrder, PurchaseOrderPage, PurchaseOrderQuery, PurchaseOrderReceipt, PurchaseOrderStatus, PurchaseOrderView, ReceiptView } from '../schemas/purchase-orders';
import type { purchaseOrder } from '../workflows/purchase-order';
import { purchaseOrderChangedSignal, type PurchaseOrderInput } from '../workflows/purchase-order-messages';
import { StockflowFlow, SupplierId } from '../workflows/search-attributes';
import type { Services } from './context';
import { startOrAttach } from './outcome';

export async function findPurchaseOrder(s: Pick<Services, 'db'>, poNumber: string): Promise<PurchaseOrderView> {
  const order = await getPurchaseOrder(s.db, poNumber);
  if (!order) throw new Refusal('not_found', `no purchase order ${poNumber}`, 'po');
  return order;
}

export function getPurchaseOrders(s: Services, query: PurchaseOrderQuery): Promise<PurchaseOrderPage> {
  return listPurchaseOrders(s.db, query);
}

/**
 * Starts the order's workflow, or finds it running. Called after the order is committed, by every
 * path that makes one (and again by a retried approval or create), so an order whose start was
 * lost gets it on the retry; a finished workflow is started again and finds the order done.
 */
export async function startPurchaseOrder(s: Pick<Services, 'db' | 'client' | 'taskQueue' | 'purchasing'>, poNumber: string): Promise<PurchaseOrderView> {
  const order = await findPurchaseOrder(s, poNumber);
  const workflowId = workflowIds.purchaseOrder(poNumber);
  await startOrAttach(s.client, workflowId, () =>
    s.client.workflow.start<typeof purchaseOrder>('purchaseOrder', {
      taskQueue: s.taskQueue,
      workflowId,
      args: [{ poNumber, expectedAt: order.expectedAt, graceSeconds: s.purchasing.graceSeconds } satisfies PurchaseOrderInput],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: StockflowFlow, value: 'purchaseOrder' },
        { key: SupplierId, value: order.supplierId },
      ],
      staticSummary: `Purchase order ${poNumber} from ${order.supplierId}: ${order.lines.length} line(s), due ${order.expectedAt}`,
    }),
  );
  return order;
}

/** An order placed directly, idempotent by its number; its workflow raises incoming and sends it. */
export async function placePurchaseOrder(s: Services, request: NewPurchaseOrder): Promise<{ order: PurchaseOrderView; created: boolean }> {
  const { created } = await createPurchaseOrder(s.db, request, new Date());
  return { order: await startPurchaseOrder(s, request.poNumber), created };
}

/** Tells the order's workflow what its status now is; the workflow asks the database itself before calling the order late. */
async function tellOrder(s: Pick<Services, 'client'>, poNumber: string, status: PurchaseOrderStatus): Promise<void> {
  try {
    await s.client.workflow.getHandle(workflowIds.purchaseOrder(poNumber)).signal(purchaseOrderChangedSignal, { status });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

/** A receipt from the warehouse, recorded under the authenticated principal; a resent receipt id applies nothing. */
export async function receivePurchaseOrder(s: Services, poNumber: string, receipt: PurchaseOrderReceipt, actor: string): Promise<{ receipt: ReceiptView; replayed: boolean; order: PurchaseOrderView }> {
  const outcome = await receiveAgainstOrder(s.db, poNumber, receipt, actor, s.purchasing.overReceiptTolerance);
  if (outcome.status !== 'open') await tellOrder(s, poNumber, outcome.status);
  return { receipt: outcome.receipt, replayed: outcome.replayed, order: await findPurchaseOrder(s, poNumber) };
}

/** Closes an order short: what was not received leaves incoming. */
export async function closePurchaseOrder(s: Services, poNumber: string, body: ClosePurchaseOrder): Promise<PurchaseOrderView> {
  const closed = await closeOrder(s.db, poNumber, body.by, body.reason);
  await tellOrder(s, poNumber, closed.status);
  return findPurchaseOrder(s, poNumber);
}
