import { z } from 'zod';
import { eachOnce, LocationCode, Sku } from './common';

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

// The catalogue as the API and imports change it: items, variants, locations, suppliers, prices.

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** The shop's own key for a product (Shopify's handle). */
export const Handle = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u, 'may contain only letters, digits, ".", "_" and "-"');

export const Tag = text(100);
export const Tags = z.array(Tag).max(250, 'must list at most 250 tags');
export const Channel = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"');
export const LocationKind = z.enum(['warehouse', 'store', 'drop_ship', 'supplier_managed'], {
  error: 'must be one of warehouse, store, drop_ship, supplier_managed',
});
export const Currency = z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as EUR');
/** A price or cost per base unit: at most 4 decimals, below ten billion. */
export const Money = z
  .number({ error: 'must be a number' })
  .min(0, 'must not be negative')
  .max(9_999_999_999, 'must be below 10,000,000,000')
  .refine((n) => Math.abs(n * 10_000 - Math.round(n * 10_000)) < 1e-6, 'must have at most 4 decimals');
export const OptionValues = z
  .record(text(100), text(255))
  .refine((o) => Object.keys(o).length <= 10, 'must have at most 10 options');
export const UnitOfMeasure = text(32);
export const PackSize = z.number({ error: 'must be a number' }).int('must be a whole number').positive('must be greater than 0').max(1_000_000, 'must be at most 1,000,000');

export const ItemFields = z.object({
  handle: Handle.optional(),
  name: text(200),
  vendor: text(200).optional(),
  tags: Tags.default([]),
  /** Backorderable items may go below zero on hand; everything else is refused by the database. */
  allowNegative: z.boolean().default(false),
});

export const VariantFields = z.object({
  sku: Sku,
  barcode: text(64).optional(),
  options: OptionValues.default({}),
  unitOfMeasure: UnitOfMeasure.default('each'),
  packSize: PackSize.default(1),
  price: Money.optional(),
  cost: Money.optional(),
  currency: Currency.default('USD'),
});
export type VariantFields = z.infer<typeof VariantFields>;

export const ItemCreate = ItemFields.extend({ variants: z.array(VariantFields).max(500, 'must list at most 500 variants').default([]) });
export type ItemCreate = z.infer<typeof ItemCreate>;
/** Only the fields sent change; tags replace the item's tags. */
export const ItemUpdate = ItemFields.partial().refine((u) => Object.keys(u).length > 0, 'must change at least one field');
export type ItemUpdate = z.infer<typeof ItemUpdate>;
/** A price or cost sent here appends a row to the variant's price history; the past stays. */
export const VariantUpdate = VariantFields.omit({ sku: true }).partial().refine((u) => Object.keys(u).length > 0, 'must change at least one field');
export type VariantUpdate = z.infer<typeof VariantUpdate>;

export const LocationUpsert = z.object({
  name: text(200),
  kind: LocationKind.default('warehouse'),
  channels: z.array(Channel).max(50, 'must list at most 50 channels').default([]),
});
export type LocationUpsert = z.infer<typeof LocationUpsert>;

export const SupplierTerms = z.object({
  leadTimeDays: z.number().int('must be a whole number of days').min(0, 'must not be negative').max(3650, 'must be at most 3650 days').optional(),
  moq: z.number().int('must be a whole number').positive('must be greater than 0').max(1_000_000_000).optional(),
  packSize: PackSize.optional(),
  currency: Currency.optional(),
  /** Where purchase orders are sent (POST of JSON, signed with the supplier's source secret). */
  orderWebhookUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000, 'must be at most 2000 characters').optional(),
});
export const SupplierVariantEntry = z.object({ sku: Sku, cost: Money.optional(), currency: Currency.optional() });
export const SupplierVariants = z.object({
  entries: z
    .array(SupplierVariantEntry)
    .min(1, 'must list at least one variant')
    .max(10_000, 'must list at most 10,000 variants')
    .superRefine(eachOnce('sku', 'listed')),
});

export const Archival = z.object({ by: text(100), reason: text(1000) });
export type Archival = z.infer<typeof Archival>;

/** Cursor pagination and the filters every catalogue list takes. */
export const ListQuery = z.object({
  cursor: z.string().max(200).optional().describe('the nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  q: z.string().trim().min(1).max(200).optional().describe('text: name, handle, SKU, barcode or code contains it (case-insensitive)'),
  tag: Tag.optional(),
  location: LocationCode.optional().describe('items and variants with a balance at this location'),
  archived: z.enum(['false', 'true', 'all']).default('false').describe('archived ones only (true), active ones only (false) or both'),
});
export type ListQuery = z.infer<typeof ListQuery>;

export const StockListQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  location: LocationCode.optional(),
  skuPrefix: z.string().trim().min(1).max(64).optional(),
  tag: Tag.optional(),
  availableAtMost: z.coerce.number().int().min(-2_147_483_648).max(2_147_483_647).optional().describe('available <= this'),
  blocked: z.enum(['true', 'false']).optional().describe('only balances a cycle count blocked from selling'),
  negative: z.enum(['true', 'false']).optional().describe('only balances with negative on hand'),
});
export type StockListQuery = z.infer<typeof StockListQuery>;

// Imports.

export const ImportFormat = z.enum(['stockflow', 'shopify-products', 'shopify-inventory']);
export type ImportFormat = z.infer<typeof ImportFormat>;
/** How an import is stored: the stockflow format comes as JSON or CSV. */
export type StoredImportFormat = 'stockflow-json' | 'stockflow-csv' | 'shopify-products' | 'shopify-inventory';

export const ImportId = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits and . _ : -');

export const ImportOptions = z.object({
  importId: ImportId.optional().describe('default: a hash of the content and options'),
  format: ImportFormat.default('stockflow'),
  skipInvalid: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  currency: Currency.default('USD').describe('the currency of prices and costs in a Shopify export'),
});

/** One normalised record of an import, after its row was read and checked. */
export const ImportLocation = z.object({ kind: z.literal('location'), code: LocationCode, name: text(200), locationKind: LocationKind.default('warehouse'), channels: z.array(Channel).default([]) });
export const ImportVariant = z.object({
  kind: z.literal('variant'),
  handle: Handle,
  itemName: text(200),
  vendor: text(200).optional(),
  tags: Tags.default([]),
  allowNegative: z.boolean().default(false),
  ...VariantFields.shape,
});
export const ImportSupplier = z.object({ kind: z.literal('supplier'), id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"').max(64), name: text(200), location: LocationCode, ...SupplierTerms.shape });
export const ImportSupplierVariant = z.object({ kind: z.literal('supplier_variant'), supplierId: ImportSupplier.shape.id, ...SupplierVariantEntry.shape });
export const ImportBalance = z.object({
  kind: z.literal('balance'),
  sku: Sku,
  location: LocationCode,
  onHand: z.number({ error: 'must be a number' }).int('must be a whole number').min(-1_000_000_000, 'must be within ±1,000,000,000').max(1_000_000_000, 'must be within ±1,000,000,000'),
});
export const ImportRecordBody = z.discriminatedUnion('kind', [ImportLocation, ImportVariant, ImportSupplier, ImportSupplierVariant, ImportBalance]);
export type ImportRecordBody = z.infer<typeof ImportRecordBody>;
/** A record with the row it came from (a CSV line, or the position in a JSON document). */
export type ImportRecord = ImportRecordBody & { row: number };
export type ImportRecordOf<K extends ImportRecord['kind']> = Extract<ImportRecord, { kind: K }>;

export interface ImportProblem {
  row: number;
  column: string;
  reason: string;
}

/** What an import reports: counts, every refused row, ignored columns and rows, and what was applied. */
export interface ImportReport {
  rows: number;
  records: number;
  valid: number;
  problems: ImportProblem[];
  skippedRows: { row: number; reason: string }[];
  ignoredColumns: string[];
  /** Rows left out of the apply (their problems are above). */
  excludedRows: number[];
  /** Codes made from location names (Shopify's inventory export) → the existing location of that name they were matched to. */
  locationCodes: Record<string, string>;
  refused: boolean;
}

export interface ImportApplied {
  locations: number;
  suppliers: number;
  items: number;
  variants: number;
  prices: number;
  supplierVariants: number;
  balances: number;
  /** Opening balances the ledger refused (they are listed with the reason). */
  refused: ImportProblem[];
}

/** What an import applied, as its workflow counts it: the refused opening balances by number (the report lists them). */
export type ImportAppliedCounts = Omit<ImportApplied, 'refused'> & { refused: number };
