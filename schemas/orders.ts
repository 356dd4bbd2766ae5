import { z } from 'zod';
import { LocationCode, notPlaceholder, PLACEHOLDER_REASON, Quantity, Sku } from './common';
import { DurationSeconds } from './duration';

/** Upstream ids travel in workflow ids (`order/<channel>/<orderId>`), so they are bounded and printable. */
const UpstreamId = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'may contain only letters, digits and . _ : @ -')
  .refine(notPlaceholder, PLACEHOLDER_REASON);

export const ChannelId = UpstreamId.max(40, 'must be at most 40 characters');
export const OrderId = UpstreamId;
export const EventId = UpstreamId.max(200, 'must be at most 200 characters');

export const OrderLine = z.object({ sku: Sku, quantity: Quantity });
export type OrderLine = z.infer<typeof OrderLine>;

const envelope = {
  eventId: EventId,
  orderId: OrderId,
  channel: ChannelId,
  /** When the upstream system says it happened; kept for the audit trail, never used for ordering. */
  occurredAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
};

export const OrderPlaced = z.object({
  type: z.literal('order.placed'),
  ...envelope,
  /**
   * Where the order is fulfilled from: every line is reserved at this location. Left out, the
   * configured allocation picks the location of each line (schemas/config.ts).
   */
  location: LocationCode.optional(),
  lines: z.array(OrderLine).min(1, 'must list at least one line').max(100, 'must list at most 100 lines'),
  /** The cart whose hold becomes this order's reservation (POST /v1/reservations); the lines must be what it holds. */
  cartId: UpstreamId.optional(),
});
const simple = <T extends string>(type: T) => z.object({ type: z.literal(type), ...envelope });
export const OrderPaid = simple('order.paid');
export const OrderCancelled = simple('order.cancelled').extend({ reason: z.string().trim().max(500).optional() });
export const FulfilmentAccepted = simple('fulfilment.accepted');
export const FulfilmentShipped = simple('fulfilment.shipped').extend({ trackingRef: z.string().trim().max(200).optional() });
export const FulfilmentFailed = simple('fulfilment.failed').extend({ reason: z.string().trim().max(500).optional() });

/** The body of `POST /v1/orders/events`: one upstream event about one order. */
export const OrderEvent = z.discriminatedUnion(
  'type',
  [OrderPlaced, OrderPaid, OrderCancelled, FulfilmentAccepted, FulfilmentShipped, FulfilmentFailed],
  { error: 'must be one of order.placed, order.paid, order.cancelled, fulfilment.accepted, fulfilment.shipped, fulfilment.failed' },
);
export type OrderEvent = z.infer<typeof OrderEvent>;
export type OrderEventType = OrderEvent['type'];

/**
 * received → validated → reserved → paid → fulfilment_requested → accepted → shipped → closed,
 * or one of the endings: rejected (invalid or out of stock), cancelled, expired (unpaid in time),
 * failed (fulfilment failed or could not be completed; stock put back and an exception opened).
 */
export const OrderState = z.enum([
  'received',
  'validated',
  'reserved',
  'paid',
  'fulfilment_requested',
  'accepted',
  'shipped',
  'closed',
  'rejected',
  'cancelled',
  'expired',
  'failed',
]);
export type OrderState = z.infer<typeof OrderState>;

export const FINAL_STATES: readonly OrderState[] = ['closed', 'rejected', 'cancelled', 'expired', 'failed'];

/** How long an order may wait for each step; seconds or text like "30m". Defaults are configuration (schemas/config.ts). */
export const OrderWindows = z.object({
  paymentWindow: DurationSeconds,
  fulfilmentWindow: DurationSeconds,
  /** Added to the reservation's expiry beyond the two windows, so the sweep only takes what no workflow will. */
  reservationGrace: DurationSeconds,
});
export type OrderWindows = z.infer<typeof OrderWindows>;
export type OrderWindowsInput = z.input<typeof OrderWindows>;

/**
 * One reservation of a placed order: lines of one SKU are reserved as their sum (`lineNos` names
 * them, 1-based), at the location the order named or the allocation chose; a line split across
 * locations has a part at each.
 */
export const PlacedPart = z.object({
  partNo: z.number().int(),
  lineNos: z.array(z.number().int()),
  sku: z.string(),
  location: z.string(),
  quantity: z.number().int(),
  reservationKey: z.string(),
  /**
   * The units of the part beyond what was available, for an item whose policy allows it
   * (allowNegative: backorderable): reserved all the same, and expected by a date: the expected
   * date of the open purchase order whose arrival covers them after the backorders ahead
   * (`basis: purchase_order`), or, when no open order does, the configured lead time from now.
   */
  backordered: z
    .object({
      quantity: z.number().int(),
      incoming: z.number().int(),
      expectedBy: z.string(),
      basis: z.enum(['purchase_order', 'lead_time']),
      purchaseOrder: z.string().optional(),
    })
    .optional(),
});
export type PlacedPart = z.infer<typeof PlacedPart>;

/**
 * The synchronous answer to `order.placed`, stored with the order and given again to any repeat:
 * every line reserved, or none and why (`invalid` lines, or `out_of_stock`).
 */
export const PlacementAnswer = z.discriminatedUnion('status', [
  z.object({ status: z.literal('reserved'), parts: z.array(PlacedPart), expiresAt: z.string() }),
  z.object({ status: z.literal('rejected'), why: z.enum(['invalid', 'out_of_stock']), reason: z.string() }),
]);
export type PlacementAnswer = z.infer<typeof PlacementAnswer>;

/** How an order's lines are placed: allocation when it names no location, and backorder dates (configuration: schemas/config.ts). */
export const AllocationRules = z.object({
  /** `priority`: the first location in `locationPriority` with the stock; `most_available`: the location with the most available. */
  strategy: z.enum(['priority', 'most_available']),
  /** Location codes, most preferred first; unlisted locations come after, by code. */
  locationPriority: z.array(z.string()),
  /** Channels whose orders may ship one line from several locations. */
  splitChannels: z.array(z.string()),
  /** Added to now for the expected date of backordered units. */
  backorderLeadSeconds: z.number().int().positive(),
});
export type AllocationRules = z.infer<typeof AllocationRules>;

export const OrderLookup = z.object({ channel: ChannelId.optional() });
