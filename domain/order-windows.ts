import type { OrderWindows } from '../schemas/orders';

/** How long an order's reservation lasts: both windows and the grace, so only the sweep takes what no workflow will. */
export function reservationTtlSeconds(windows: OrderWindows): number {
  return windows.paymentWindow + windows.fulfilmentWindow + windows.reservationGrace;
}
