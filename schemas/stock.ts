import { z } from 'zod';
import { MOVEMENT_LIMIT } from '../domain/balance';
import { Actor, IdempotencyKey, LocationCode, NonNegativeQuantity, Quantity, Sku } from './common';

/** Why a quantity was corrected by hand. The database keeps the same list in `reason_codes`. */
export const ReasonCode = z.enum(
  ['damaged', 'lost', 'found', 'theft', 'expired', 'returned', 'correction', 'count_variance', 'supplier_feed', 'opening_balance'],
  { error: 'must be one of damaged, lost, found, theft, expired, returned, correction, count_variance, supplier_feed, opening_balance' },
);
export type ReasonCode = z.infer<typeof ReasonCode>;

const envelope = {
  idempotencyKey: IdempotencyKey,
  actor: Actor.default('api'),
  /** Upstream reference (PO number, order id, feed id) kept on the ledger row. */
  sourceRef: z.string().max(200, 'must be at most 200 characters').optional(),
};

const at = { sku: Sku, location: LocationCode };

export const ReceiveOp = z.object({ kind: z.literal('receive'), ...envelope, ...at, quantity: Quantity });

/** Stock leaving the building without an order (samples, write-off to a customer): taken from available. */
export const IssueOp = z.object({ kind: z.literal('issue'), ...envelope, ...at, quantity: Quantity });

export const ReserveOp = z.object({
  kind: z.literal('reserve'),
  ...envelope,
  ...at,
  quantity: Quantity,
  orderRef: z.string().max(200, 'must be at most 200 characters').optional(),
  ttlSeconds: z.number().int().positive('must be greater than 0').max(30 * 24 * 3600, 'must be at most 30 days').default(3600),
});

/** Release, commit and ship name the reservation by the idempotency key that created it. */
export const ReleaseOp = z.object({
  kind: z.literal('release'),
  ...envelope,
  reservationKey: IdempotencyKey,
  /** `expired` when the hold ran out rather than being let go on purpose. */
  outcome: z.enum(['released', 'expired']).default('released'),
});
/** Picking starts: reserved → committed. */
export const CommitOp = z.object({ kind: z.literal('commit'), ...envelope, reservationKey: IdempotencyKey });
/** The committed stock leaves: committed and on hand both go down. */
export const ShipOp = z.object({ kind: z.literal('ship'), ...envelope, reservationKey: IdempotencyKey });
/** Picking stopped (the order was cancelled or the warehouse failed): committed stock is available again. */
export const UnpickOp = z.object({ kind: z.literal('unpick'), ...envelope, reservationKey: IdempotencyKey });

export const AdjustOp = z.object({
  kind: z.literal('adjust'),
  ...envelope,
  ...at,
  delta: z
    .number({ error: 'must be a number' })
    .int('must be a whole number of base units')
    .min(-MOVEMENT_LIMIT, 'must be within ±1,000,000,000')
    .max(MOVEMENT_LIMIT, 'must be within ±1,000,000,000')
    .refine((d) => d !== 0, 'must not be 0'),
  reasonCode: ReasonCode,
  note: z.string().max(1000, 'must be at most 1000 characters').optional(),
  /** Evidence for a change that needed approval (photo link, count sheet, ticket). */
  evidence: z.string().max(2000, 'must be at most 2000 characters').optional(),
});

export const TransferOp = z
  .object({ kind: z.literal('transfer'), ...envelope, sku: Sku, from: LocationCode, to: LocationCode, quantity: Quantity })
  .refine((op) => op.from !== op.to, { message: 'must differ from "from"', path: ['to'] });

/** Absolute quantity on its way (purchase order / ASN): replaces the previous figure. */
export const SetIncomingOp = z.object({ kind: z.literal('set_incoming'), ...envelope, ...at, quantity: NonNegativeQuantity });

/**
 * On hand replaced by a figure someone else is the authority for: a supplier feed line (or one a
 * person approved after it was held), or an opening balance brought in by a catalogue import. May
 * be negative; the item's policy still decides.
 */
export const SetOnHandOp = z.object({
  kind: z.literal('set_on_hand'),
  ...envelope,
  ...at,
  /** Why on hand is set; unset is a supplier's figure. */
  reasonCode: z.enum(['supplier_feed', 'opening_balance']).optional(),
  quantity: z
    .number({ error: 'must be a number' })
    .int('must be a whole number of base units')
    .min(-MOVEMENT_LIMIT, 'must be within ±1,000,000,000')
    .max(MOVEMENT_LIMIT, 'must be within ±1,000,000,000'),
});

/**
 * Units ordered from a supplier against a purchase order line: added to incoming. Unlike
 * set_incoming (absolute), several open orders for one SKU-location add up.
 */
export const ExpectIncomingOp = z.object({ kind: z.literal('expect_incoming'), ...envelope, ...at, quantity: Quantity });

/**
 * A receipt against a purchase order line, one movement: on hand up by `quantity`, incoming down
 * by `expected` (what of them the order still had in incoming), never below zero.
 */
export const ReceiveIncomingOp = z.object({ kind: z.literal('receive_incoming'), ...envelope, ...at, quantity: Quantity, expected: NonNegativeQuantity });

/** Ordered units that will not come (an order closed short): out of incoming, never below zero. */
export const CancelIncomingOp = z.object({ kind: z.literal('cancel_incoming'), ...envelope, ...at, quantity: Quantity });

export const CycleCountOp = z.object({ kind: z.literal('cycle_count'), ...envelope, ...at, counted: NonNegativeQuantity });

/** Clears an investigation or selling block left by a cycle count, after someone looked into it. */
export const ResolveCountFlagOp = z.object({
  kind: z.literal('resolve_count_flag'),
  ...envelope,
  ...at,
  note: z.string().trim().min(1, 'must say what was found').max(1000, 'must be at most 1000 characters'),
});

function kindError(issue: { code: string; options?: unknown }): string {
  if (issue.code === 'invalid_type') return 'must be a JSON object';
  return `must be one of ${(issue.options as string[] | undefined)?.join(', ') ?? 'the listed kinds'}`;
}

export const StockOperation = z.discriminatedUnion(
  'kind',
  [ReceiveOp, IssueOp, ReserveOp, ReleaseOp, CommitOp, ShipOp, UnpickOp, AdjustOp, TransferOp, SetIncomingOp, SetOnHandOp, CycleCountOp, ResolveCountFlagOp, ExpectIncomingOp, ReceiveIncomingOp, CancelIncomingOp],
  { error: kindError },
);
export type StockOperation = z.infer<typeof StockOperation>;
/** What a caller may send: defaults (actor, ttl) not yet applied. */
export type StockOperationInput = z.input<typeof StockOperation>;
export type StockOperationKind = StockOperation['kind'];
export type OperationOf<K extends StockOperationKind> = Extract<StockOperation, { kind: K }>;


export const CountStatus = z.enum(['ok', 'investigate', 'blocked']);
export type CountStatus = z.infer<typeof CountStatus>;

export const BalanceView = z.object({
  location: z.string(),
  onHand: z.number().int(),
  reserved: z.number().int(),
  committed: z.number().int(),
  incoming: z.number().int(),
  available: z.number().int(),
  countStatus: CountStatus,
});
export type BalanceView = z.infer<typeof BalanceView>;

export const StockLevels = z.object({
  sku: z.string(),
  itemName: z.string(),
  allowNegative: z.boolean(),
  locations: z.array(BalanceView),
  total: BalanceView.omit({ location: true, countStatus: true }),
});
export type StockLevels = z.infer<typeof StockLevels>;

/** What an applied operation reports; a replay with the same key returns it unchanged. */
export const OperationResult = z.object({
  idempotencyKey: z.string(),
  kind: z.string(),
  replayed: z.boolean(),
  movements: z.number().int(),
  balances: z.array(BalanceView.extend({ sku: z.string() })),
  reservation: z
    .object({ key: z.string(), status: z.string(), quantity: z.number().int(), expiresAt: z.string() })
    .optional(),
  cycleCount: z
    .object({ expected: z.number().int(), counted: z.number().int(), variance: z.number().int(), variancePct: z.number(), outcome: CountStatus })
    .optional(),
});
export type OperationResult = z.infer<typeof OperationResult>;

/** The stable codes of business refusals; the API maps them to HTTP statuses. */
export const StockRefusalCode = z.enum([
  'unknown_sku',
  'unknown_location',
  'unknown_supplier',
  'unknown_reservation',
  'insufficient_stock',
  'negative_not_allowed',
  'selling_blocked',
  'reservation_not_active',
  'reservation_not_committed',
  'idempotency_conflict',
  /** The SKU is archived: its history stays, nothing new is reserved. */
  'sku_archived',
  /** The location is archived: its history stays, nothing new is reserved there. */
  'location_archived',
  /** A balance (or one movement's change of it) would leave the range it is kept in; see domain/balance.ts. */
  'quantity_out_of_range',
]);
export type StockRefusalCode = z.infer<typeof StockRefusalCode>;

/** The body of `POST /v1/stock/movements`: what people and upstream systems may ask for directly. */
export const MovementRequest = z.discriminatedUnion(
  'kind',
  [ReceiveOp, IssueOp, AdjustOp, TransferOp, SetIncomingOp, CycleCountOp, ResolveCountFlagOp],
  { error: kindError },
);
export type MovementRequest = z.infer<typeof MovementRequest>;
