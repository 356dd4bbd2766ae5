import { z } from 'zod';
import { LocationCode, Sku } from './common';

export const LocationInput = z.object({
  code: LocationCode,
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});

export const ItemInput = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  /** Backorderable items may go below zero on hand; everything else is refused by the database. */
  allowNegative: z.boolean().default(false),
  skus: z.array(Sku).min(1, 'must list at least one SKU').max(500, 'must list at most 500 SKUs'),
});

export const Catalogue = z.object({
  locations: z.array(LocationInput),
  items: z.array(ItemInput),
});
export type Catalogue = z.input<typeof Catalogue>;
