import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { OrderEvent, OrderLine, OrderState } from '../schemas/orders';

/** Every upstream event about the order, delivered with signal-with-start by the events API. */
export const orderEventSignal = defineSignal<[OrderEvent]>('orderEvent');

/** Who asked to hand an order to the warehouse again, and why; recorded as a transition of the order. */
export interface FulfilmentRetry {
  by: string;
  reason?: string;
}

/** The retry path of a hand-off nobody acknowledged: `{"by": "<owner id>", "reason": "…"}`. */
export const retryFulfilmentSignal = defineSignal<[FulfilmentRetry]>('retryFulfilment');

/** One reservation the order holds: a line, or (answered at checkout) the sum of a SKU's lines at one location. */
export interface HeldLine {
  lineNo: number;
  sku: string;
  quantity: number;
  location?: string;
  reservationKey: string;
  /** What this workflow last did to the reservation. */
  status: 'active' | 'committed' | 'issued' | 'released' | 'expired';
}

export interface OrderSnapshot {
  workflowId: string;
  channel: string;
  orderId: string;
  state: OrderState;
  stateOwnerId?: string;
  location?: string;
  lines: OrderLine[];
  held: HeldLine[];
  reason?: string;
  /** Events that arrived too late to change anything (e.g. a cancellation after shipping). */
  ignored: { eventId: string; type: string; why: string }[];
}

export const orderQuery = defineQuery<OrderSnapshot>('order');
