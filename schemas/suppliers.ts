import { z } from 'zod';
import { eachOnce, LocationCode, Sku } from './common';
import { SupplierTerms } from './catalogue';
import { OwnerId } from './ownership';

/** One supplier unit holds at most this many of our base units (a pallet, not a warehouse). */
export const MAX_UNIT_FACTOR = 1_000_000;

export const SupplierRegistration = z.object({ name: z.string().trim().min(1, 'must not be empty').max(200), location: LocationCode, ...SupplierTerms.shape });

export const SkuMapEntry = z.object({
  supplierSku: z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  sku: Sku,
  unitFactor: z
    .number({ error: 'must be a number' })
    .int('must be a whole number of base units')
    .positive('must be greater than 0')
    .max(MAX_UNIT_FACTOR, `must be at most ${MAX_UNIT_FACTOR.toLocaleString('en')} base units per supplier unit`)
    .default(1),
});
export type SkuMapEntry = z.infer<typeof SkuMapEntry>;

/** A mapping request names each supplier SKU once: two answers for one SKU would leave which one wins to chance. */
export const SkuMap = z.object({
  entries: z
    .array(SkuMapEntry)
    .min(1, 'must list at least one mapping')
    .max(10_000, 'must list at most 10,000 mappings')
    .superRefine(eachOnce('supplierSku', 'mapped')),
});

/** Archiving or restoring: who asks and why, for the audit trail. */
export const SupplierArchival = z.object({ by: OwnerId, reason: z.string().trim().min(1, 'must say why').max(1000) });
