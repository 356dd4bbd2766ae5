import { ActivityFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { lateAt } from '../domain/purchase-orders';
import type { PurchaseOrderStatus } from '../schemas/purchase-orders';
import { purchaseOrderChangedSignal, purchaseOrderStateQuery, type PurchaseOrderInput, type PurchaseOrderState } from './purchase-order-messages';

const { raisePurchaseOrderIncoming, checkPurchaseOrderLate, raiseException } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** A supplier's webhook may be down for a while: retried with backoff until it answers 2xx. */
const { sendPurchaseOrder } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/**
 * The life of one purchase order (`purchase-order/<po>`): its lines go into incoming, it is sent
 * to the supplier if the supplier takes orders by webhook, and it waits for the warehouse's
 * receipts until it is received in full or closed short. Past its expected date plus the grace
 * it is late: one `purchase_order_late` exception goes to the buyer, and it keeps waiting.
 * Receipts and closes are written by the API in their own transactions; the workflow is told the
 * status after, and asks the database itself before calling an order late.
 */
export async function purchaseOrder(input: PurchaseOrderInput): Promise<PurchaseOrderState> {
  const order = new PurchaseOrderLife(input);
  setHandler(purchaseOrderChangedSignal, ({ status }) => order.settle(status));
  setHandler(purchaseOrderStateQuery, () => order.state());
  return order.run();
}

class PurchaseOrderLife {
  private status: PurchaseOrderStatus = 'open';
  private sent = false;
  private sendProblem?: string;
  private late = false;

  constructor(private readonly input: PurchaseOrderInput) {}

  settle(status: PurchaseOrderStatus): void {
    if (status !== 'open') this.status = status;
  }

  state(): PurchaseOrderState {
    return { status: this.status, sent: this.sent, late: this.late, ...(this.sendProblem ? { sendProblem: this.sendProblem } : {}) };
  }

  private ended = () => this.status !== 'open';

  async run(): Promise<PurchaseOrderState> {
    this.settle((await raisePurchaseOrderIncoming(this.input.poNumber)).status);
    if (!this.ended()) void this.sendToSupplier();
    const lateBy = lateAt(new Date(this.input.expectedAt), this.input.graceSeconds).getTime();
    if (!(await condition(this.ended, Math.max(1, lateBy - Date.now())))) {
      const check = await checkPurchaseOrderLate(this.input.poNumber);
      this.settle(check.status);
      if (check.exception) {
        await raiseException(check.exception);
        this.late = true;
      }
      await condition(this.ended);
    }
    return this.state();
  }

  /** Alongside the wait: a supplier that is down delays neither receipts nor the late check. */
  private async sendToSupplier(): Promise<void> {
    try {
      this.sent = (await sendPurchaseOrder(this.input.poNumber)).sent;
    } catch (error) {
      this.sendProblem = error instanceof ActivityFailure && error.cause ? error.cause.message : String(error);
    }
  }
}
