import { z } from 'zod';
import { Currency, Money } from './catalogue';
import { LocationCode, Quantity, Sku } from './common';
import { SupplierId } from './feeds';
import { OwnerId } from './ownership';

/** A purchase order number: a business key, never a serial (an approved suggestion's comes from its run and supplier). */
export const PoNumber = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may contain only letters, digits and . _ -');

export const ReceiptId = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits and . _ : -');

export const PurchaseOrderStatus = z.enum(['open', 'received', 'closed']);
export type PurchaseOrderStatus = z.infer<typeof PurchaseOrderStatus>;

/** How purchase orders are run: the configuration's STOCKFLOW_PO_GRACE_DAYS and STOCKFLOW_OVER_RECEIPT_TOLERANCE. */
export const PurchasingRules = z.object({
  /** How long past its expected date an order not received in full waits before it is late. */
  graceSeconds: z.number().int().min(0),
  /** Share of a line's ordered quantity that may arrive beyond it (0.1: 10 %). */
  overReceiptTolerance: z.number().min(0, 'must not be negative').max(10, 'must be at most 10 (1000 %)'),
});
export type PurchasingRules = z.infer<typeof PurchasingRules>;

const placeOnce = (lines: { sku: string; location: string }[], ctx: z.RefinementCtx) => {
  const first = new Map<string, number>();
  lines.forEach((l, i) => {
    const key = `${l.sku}@${l.location}`;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i);
    else ctx.addIssue({ code: 'custom', path: [i, 'sku'], message: `${key} is already ordered in lines.${earlier}` });
  });
};

/** An order placed directly (not from a suggestion); a resend with the same number and content changes nothing. */
export const NewPurchaseOrder = z.object({
  by: OwnerId,
  poNumber: PoNumber,
  supplierId: SupplierId,
  currency: Currency.optional(),
  /** Left out: now plus the supplier's lead time. */
  expectedAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
  lines: z
    .array(z.object({ sku: Sku, location: LocationCode, quantity: Quantity, unitCost: Money.optional() }))
    .min(1, 'must list at least one line')
    .max(10_000, 'must list at most 10,000 lines')
    .superRefine(placeOnce),
});
export type NewPurchaseOrder = z.infer<typeof NewPurchaseOrder>;

/** What arrived against an order, by the warehouse's receipt id. `location` is needed only when the order has the SKU at several. */
export const PurchaseOrderReceipt = z.object({
  receiptId: ReceiptId,
  lines: z
    .array(z.object({ sku: Sku, location: LocationCode.optional(), quantity: Quantity }))
    .min(1, 'must list at least one line')
    .max(10_000, 'must list at most 10,000 lines')
    .superRefine((lines, ctx) => placeOnce(lines.map((l) => ({ sku: l.sku, location: l.location ?? '' })), ctx)),
});
export type PurchaseOrderReceipt = z.infer<typeof PurchaseOrderReceipt>;

export const ClosePurchaseOrder = z.object({ by: OwnerId, reason: z.string().trim().min(1, 'must say why').max(1000, 'must be at most 1000 characters') });
export type ClosePurchaseOrder = z.infer<typeof ClosePurchaseOrder>;

export const PurchaseOrderQuery = z.object({
  status: PurchaseOrderStatus.optional(),
  supplierId: SupplierId.optional(),
  cursor: PoNumber.optional().describe('the nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type PurchaseOrderQuery = z.infer<typeof PurchaseOrderQuery>;

export const PurchaseOrderLine = z.object({
  lineNo: z.number().int(),
  sku: z.string(),
  location: z.string(),
  ordered: z.number().int(),
  received: z.number().int(),
  remaining: z.number().int(),
  unitCost: z.number().nullable(),
});

export const ReceiptView = z.object({
  receiptId: z.string(),
  receivedBy: z.string(),
  receivedAt: z.string(),
  lines: z.array(z.object({ lineNo: z.number().int(), sku: z.string(), location: z.string(), quantity: z.number().int() })),
});
export type ReceiptView = z.infer<typeof ReceiptView>;

export const PurchaseOrderSummary = z.object({
  poNumber: z.string(),
  supplierId: z.string(),
  status: PurchaseOrderStatus,
  currency: z.string().nullable(),
  value: z.number(),
  suggestionId: z.number().int().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  expectedAt: z.string(),
  sentAt: z.string().nullable(),
  closedBy: z.string().nullable(),
  closedAt: z.string().nullable(),
});
export type PurchaseOrderSummary = z.infer<typeof PurchaseOrderSummary>;

export const PurchaseOrderView = PurchaseOrderSummary.extend({
  closeReason: z.string().nullable(),
  lines: z.array(PurchaseOrderLine),
  receipts: z.array(ReceiptView),
});
export type PurchaseOrderView = z.infer<typeof PurchaseOrderView>;

export const PurchaseOrderPage = z.object({ items: z.array(PurchaseOrderSummary), nextCursor: z.string().nullable() });
export type PurchaseOrderPage = z.infer<typeof PurchaseOrderPage>;

/** What the supplier's order webhook receives: the order as placed. */
export const SupplierOrder = z.object({
  poNumber: z.string(),
  supplierId: z.string(),
  currency: z.string().nullable(),
  expectedAt: z.string(),
  lines: z.array(z.object({ lineNo: z.number().int(), sku: z.string(), supplierSku: z.string().nullable(), location: z.string(), quantity: z.number().int(), unitCost: z.number().nullable() })),
});
export type SupplierOrder = z.infer<typeof SupplierOrder>;
