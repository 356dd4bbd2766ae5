import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { OrderEvent, OrderWindows } from '../schemas/orders';
import { workflowIds } from '../domain/keys';
import { orderEventSignal } from '../workflows/order-messages';
import type { OrderFlowInput, orderReconciliation } from '../workflows/order-reconciliation';
import { OrderId, StockflowFlow } from '../workflows/search-attributes';

export type Delivery = { workflowId: string; delivered: true } | { workflowId: string; delivered: false; why: string };

/**
 * Delivers an event to `order/<channel>/<orderId>`, starting the workflow with the first one
 * (signal-with-start). A finished order is not started again: the event is refused as too late.
 */
export async function deliverOrderEvent(client: Client, taskQueue: string, windows: OrderWindows, event: OrderEvent): Promise<Delivery> {
  const workflowId = workflowIds.order(event.channel, event.orderId);
  try {
    await client.workflow.signalWithStart<typeof orderReconciliation, [OrderEvent]>('orderReconciliation', {
      taskQueue,
      workflowId,
      args: [{ channel: event.channel, orderId: event.orderId, windows } satisfies OrderFlowInput],
      signal: orderEventSignal,
      signalArgs: [event],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: StockflowFlow, value: 'orderReconciliation' },
        { key: OrderId, value: event.orderId },
      ],
      staticSummary: `Order ${event.orderId} from ${event.channel}`,
    });
    return { workflowId, delivered: true };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, delivered: false, why: 'the order is already closed' };
    throw error;
  }
}
