import { defineSignal } from '@temporalio/workflow';

/** What changed about a cart's hold: a new expiry (extended), or its end by the shopper or by an order. */
export interface CartChange {
  expiresAt?: string;
  ended?: 'released' | 'converted';
}

export const cartChangedSignal = defineSignal<[CartChange]>('cartChanged');

export interface CartHoldInput {
  cartId: string;
  /** ISO date-time the hold runs out. */
  expiresAt: string;
}
