import { z } from 'zod';
import { LocationCode } from './common';
import { DurationSeconds } from './duration';
import { ChannelId, OrderId, OrderLine, PlacedPart } from './orders';

/** A storefront's cart id: the business key of its hold (`cart/<cartId>`), bounded and printable like an order id. */
export const CartId = OrderId;

/** The body of `POST /v1/reservations`: hold these lines for this cart. */
export const CartHoldRequest = z.object({
  cartId: CartId,
  channel: ChannelId,
  /** Left out, the configured allocation picks the location of each line, as for an order. */
  location: LocationCode.optional(),
  lines: z.array(OrderLine).min(1, 'must list at least one line').max(100, 'must list at most 100 lines'),
  /** How long the hold lasts; seconds or text like "15m" (at most 90 days). Default: STOCKFLOW_CART_TTL. */
  ttl: DurationSeconds.optional(),
});
export type CartHoldRequest = z.infer<typeof CartHoldRequest>;

export const CartExtendRequest = z.object({ ttl: DurationSeconds.describe('the hold lasts this long from now; seconds or text like "15m"') });

export const CartStatus = z.enum(['held', 'converted', 'released', 'expired']);
export type CartStatus = z.infer<typeof CartStatus>;

export const CartView = z.object({
  cartId: z.string(),
  workflowId: z.string(),
  channel: z.string(),
  status: CartStatus,
  expiresAt: z.string(),
  parts: z.array(PlacedPart),
  /** The order's workflow id, once the cart was converted. */
  orderRef: z.string().nullable(),
});
export type CartView = z.infer<typeof CartView>;
