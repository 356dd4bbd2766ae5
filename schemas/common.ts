import { z } from 'zod';
import { notPlaceholder, PLACEHOLDER_REASON } from '../domain/placeholders';

export { notPlaceholder, PLACEHOLDER_REASON };

const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._\-/]*$/;
const LOCATION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Stock-keeping unit: what channels, suppliers and people call a variant. */
export const Sku = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(SKU_PATTERN, 'may contain only letters, digits, ".", "_", "-" and "/"')
  .refine(notPlaceholder, PLACEHOLDER_REASON);

export const LocationCode = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(32, 'must be at most 32 characters')
  .regex(LOCATION_PATTERN, 'may contain only letters, digits, ".", "_" and "-"')
  .refine(notPlaceholder, PLACEHOLDER_REASON);

/**
 * Whether a SKU and a location code, as they are (already trimmed), pass Sku and LocationCode: a
 * shortcut for readers of large files, which run the schemas only to say what is wrong.
 */
export function isSkuAndLocation(sku: string, location: string): boolean {
  return sku.length <= 64 && location.length <= 32 && SKU_PATTERN.test(sku) && LOCATION_PATTERN.test(location) && notPlaceholder(sku) && notPlaceholder(location);
}

/**
 * Idempotency keys travel in workflow ids and unique indexes, so they are bounded and printable.
 * Workflows build them from business identity, e.g. `order/shop/1001/reserve/1`.
 */
export const IdempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** Who asked for a change: a person's id, or a system such as `api` or `supplier:acme`. */
export const Actor = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

export const Quantity = z
  .number({ error: 'must be a number' })
  .int('must be a whole number of base units')
  .positive('must be greater than 0')
  .max(1_000_000_000, 'must be at most 1,000,000,000');

export const NonNegativeQuantity = z
  .number({ error: 'must be a number' })
  .int('must be a whole number of base units')
  .min(0, 'must not be negative')
  .max(1_000_000_000, 'must be at most 1,000,000,000');

/**
 * A list that names each key once (two answers for one key would leave which one wins to chance):
 * a repeat is an issue at its own entry naming the entry that came first.
 */
export function eachOnce<K extends string>(key: K, verb: string) {
  return (entries: Record<K, string>[], ctx: z.RefinementCtx) => {
    const first = new Map<string, number>();
    entries.forEach((entry, i) => {
      const earlier = first.get(entry[key]);
      if (earlier === undefined) first.set(entry[key], i);
      else ctx.addIssue({ code: 'custom', path: [i, key], message: `"${entry[key]}" is already ${verb} by entries.${earlier}` });
    });
  };
}
