import { z } from 'zod';
import { LocationCode, Sku } from './common';
import { SupplierId } from './feeds';
import { OwnerId } from './ownership';

const Days = z.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(0, 'must not be negative').max(3650, 'must be at most 3650 days');
const Units = z.number({ error: 'must be a number of units' }).int('must be a whole number of units').min(0, 'must not be negative').max(1_000_000_000);

const place = { sku: Sku, location: LocationCode, supplierId: SupplierId };

/** A fixed reorder point and quantity: overrides demand. */
export const StaticPolicyEntry = z.object({ kind: z.literal('static'), ...place, reorderPoint: Units, orderQuantity: Units.min(1, 'must be at least 1') });

/** Reorder point and quantity from demand; `windowDays` left out is the configured window. */
export const DynamicPolicyEntry = z.object({
  kind: z.literal('dynamic'),
  ...place,
  safetyDays: Days,
  targetDays: Days.min(1, 'must be at least 1 day'),
  windowDays: Days.min(1, 'must be at least 1 day').optional(),
  /** Adds safety stock for how much daily demand varies: z(serviceLevel) × σ × √lead time. */
  serviceLevel: z
    .number({ error: 'must be a number' })
    .min(0.5, 'must be at least 0.5')
    .max(0.9999, 'must be below 1 (at most 0.9999)')
    .refine((v) => Math.abs(v * 10_000 - Math.round(v * 10_000)) < 1e-6, 'must have at most 4 decimals')
    .optional(),
});

export const ReorderPolicyEntry = z.discriminatedUnion('kind', [StaticPolicyEntry, DynamicPolicyEntry], { error: 'kind must be static or dynamic' });
export type ReorderPolicyEntry = z.infer<typeof ReorderPolicyEntry>;

/** A bulk upsert: each SKU at each location once, so which entry wins is never left to chance. */
export const ReorderPolicies = z.object({
  by: OwnerId,
  policies: z
    .array(ReorderPolicyEntry)
    .min(1, 'must list at least one policy')
    .max(10_000, 'must list at most 10,000 policies')
    .superRefine((entries, ctx) => {
      const first = new Map<string, number>();
      entries.forEach((e, i) => {
        const key = `${e.sku}@${e.location}`;
        const earlier = first.get(key);
        if (earlier === undefined) first.set(key, i);
        else ctx.addIssue({ code: 'custom', path: [i, 'sku'], message: `${key} already has a policy in policies.${earlier}` });
      });
    }),
});
export type ReorderPolicies = z.infer<typeof ReorderPolicies>;

export const ReorderPolicyQuery = z.object({ location: LocationCode.optional(), supplierId: SupplierId.optional() });
export type ReorderPolicyQuery = z.infer<typeof ReorderPolicyQuery>;

export const StoredReorderPolicy = z.union([
  StaticPolicyEntry.extend({ updatedBy: z.string(), updatedAt: z.string() }),
  DynamicPolicyEntry.extend({ updatedBy: z.string(), updatedAt: z.string() }),
]);
export type StoredReorderPolicy = z.infer<typeof StoredReorderPolicy>;

export const SuggestionLine = z.object({
  lineNo: z.number().int(),
  sku: z.string(),
  location: z.string(),
  suggestedQuantity: z.number().int(),
  quantity: z.number().int(),
  unitCost: z.number().nullable(),
  velocity: z.number(),
  reorderPoint: z.number(),
  reason: z.string(),
});

export const PurchaseSuggestion = z.object({
  id: z.number().int(),
  runKey: z.string(),
  supplierId: z.string(),
  currency: z.string().nullable(),
  value: z.number(),
  status: z.enum(['open', 'approved', 'rejected']),
  decidedBy: z.string().nullable(),
  /** The purchase order an approval made; none while open or rejected, or when every line was edited to 0. */
  purchaseOrder: z.string().nullable(),
  lines: z.array(SuggestionLine),
});
export type PurchaseSuggestion = z.infer<typeof PurchaseSuggestion>;

export const SuggestionQuery = z.object({ status: z.enum(['open', 'approved', 'rejected']).optional() });

/** Approving as suggested, or with some lines' quantities changed (0 drops a line from the order). */
const DecisionReason = z.string().trim().min(1, 'must say why').max(1000, 'must be at most 1000 characters').optional();

export const ApproveSuggestion = z.object({
  by: OwnerId,
  reason: DecisionReason,
  quantities: z
    .array(z.object({ lineNo: z.number().int().min(1), quantity: Units }))
    .max(10_000)
    .superRefine((edits, ctx) => {
      const seen = new Set<number>();
      edits.forEach((e, i) => {
        if (seen.has(e.lineNo)) ctx.addIssue({ code: 'custom', path: [i, 'lineNo'], message: `line ${e.lineNo} is already edited earlier` });
        seen.add(e.lineNo);
      });
    })
    .optional(),
});
export type ApproveSuggestion = z.infer<typeof ApproveSuggestion>;

export const RejectSuggestion = z.object({ by: OwnerId, reason: DecisionReason });
export type RejectSuggestion = z.infer<typeof RejectSuggestion>;
