import { eq, inArray, sql } from 'drizzle-orm';
import { Refusal } from '../domain/refusal';
import type { ListQuery } from '../schemas/catalogue';
import { SupplierId } from '../schemas/feeds';
import { clientOf, isoAt, type Sql } from './client';
import { type Page } from './catalogue';
import type { Db } from './connection';
import { StockRefusal } from './errors';
import { auditLog, locations, supplierSkuMap, suppliers, variants } from './schema';

export interface SupplierEntry {
  id: string;
  name: string;
  location: string;
  leadTimeDays?: number;
  moq?: number;
  packSize?: number;
  currency?: string;
  orderWebhookUrl?: string;
}

/** The supplier, refusing one that is unknown or archived: nothing new may be recorded for it. */
export async function requireActiveSupplier(db: Db, supplierId: string): Promise<void> {
  const [row] = await db.select({ archivedAt: suppliers.archivedAt }).from(suppliers).where(eq(suppliers.id, supplierId));
  if (!row) throw new StockRefusal('unknown_supplier', `unknown supplier "${supplierId}"`, 'supplierId');
  if (row.archivedAt) throw archivedRefusal(supplierId, row.archivedAt);
}

function archivedRefusal(supplierId: string, archivedAt: Date): Refusal {
  return new Refusal('supplier_archived', `supplier "${supplierId}" was archived at ${archivedAt.toISOString()}; restore it to use it again`, 'supplierId');
}

export async function registerSupplier(db: Db, supplier: SupplierEntry): Promise<void> {
  const [[location], [existing]] = await Promise.all([
    db.select({ id: locations.id }).from(locations).where(eq(locations.code, supplier.location)),
    db.select({ archivedAt: suppliers.archivedAt }).from(suppliers).where(eq(suppliers.id, supplier.id)),
  ]);
  if (!location) throw new StockRefusal('unknown_location', `unknown location "${supplier.location}"`, 'location');
  if (existing?.archivedAt) throw archivedRefusal(supplier.id, existing.archivedAt);
  const terms = { leadTimeDays: supplier.leadTimeDays, moq: supplier.moq, packSize: supplier.packSize, currency: supplier.currency, orderWebhookUrl: supplier.orderWebhookUrl ?? null };
  await db
    .insert(suppliers)
    .values({ id: supplier.id, name: supplier.name, locationId: location.id, ...terms })
    .onConflictDoUpdate({ target: suppliers.id, set: { name: supplier.name, locationId: location.id, ...terms } });
}

export async function mapSupplierSkus(db: Db, supplierId: string, entries: { supplierSku: string; sku: string; unitFactor?: number }[]): Promise<void> {
  if (entries.length === 0) return;
  await requireActiveSupplier(db, supplierId);
  const skus = await db.select({ id: variants.id, sku: variants.sku }).from(variants).where(inArray(variants.sku, entries.map((e) => e.sku)));
  const ids = new Map(skus.map((v) => [v.sku, v.id]));
  const unknown = entries.filter((e) => !ids.has(e.sku));
  if (unknown.length > 0) throw new StockRefusal('unknown_sku', `unknown SKU(s): ${unknown.map((e) => e.sku).join(', ')}`, 'sku');
  await db
    .insert(supplierSkuMap)
    .values(entries.map((e) => ({ supplierId, supplierSku: e.supplierSku, variantId: ids.get(e.sku) as number, unitFactor: e.unitFactor ?? 1 })))
    .onConflictDoUpdate({
      target: [supplierSkuMap.supplierId, supplierSkuMap.supplierSku],
      set: { variantId: sql`excluded.variant_id`, unitFactor: sql`excluded.unit_factor` },
    });
}

export interface SupplierStatus {
  supplierId: string;
  archivedAt: string | null;
  /** False when the supplier already was in the state asked for: nothing changed. */
  changed: boolean;
}

/**
 * Archives a supplier (or restores one): a soft delete, so its feeds, mappings and the ledger's
 * references stay; while archived, new feeds and mappings are refused. Who did it and why is
 * audited; asking twice changes nothing the second time.
 */
export async function setSupplierArchived(db: Db, supplierId: string, archived: boolean, by: string, reason: string): Promise<SupplierStatus> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select({ archivedAt: suppliers.archivedAt }).from(suppliers).where(eq(suppliers.id, supplierId)).for('update');
    if (!row) throw new StockRefusal('unknown_supplier', `unknown supplier "${supplierId}"`, 'supplierId');
    if (Boolean(row.archivedAt) === archived) return { supplierId, archivedAt: row.archivedAt?.toISOString() ?? null, changed: false };
    const [updated] = await tx
      .update(suppliers)
      .set({ archivedAt: archived ? sql`now()` : null })
      .where(eq(suppliers.id, supplierId))
      .returning({ archivedAt: suppliers.archivedAt });
    await tx.insert(auditLog).values({
      actor: by,
      action: archived ? 'supplier.archived' : 'supplier.restored',
      subjectType: 'supplier',
      subjectId: supplierId,
      details: { reason },
    });
    return { supplierId, archivedAt: updated.archivedAt?.toISOString() ?? null, changed: true };
  });
}

export interface SupplierView {
  id: string;
  name: string;
  location: string;
  leadTimeDays: number | null;
  moq: number | null;
  packSize: number | null;
  currency: string | null;
  orderWebhookUrl: string | null;
  archivedAt: string | null;
}

const supplierColumns = (pg: Sql) => pg`
  s.id, s.name, l.code AS location, s.lead_time_days AS "leadTimeDays", s.moq, s.pack_size AS "packSize", s.currency,
  s.order_webhook_url AS "orderWebhookUrl", ${isoAt(pg, 's.archived_at')} AS "archivedAt"`;

export async function listSuppliers(db: Db, q: ListQuery): Promise<Page<SupplierView>> {
  const pg = clientOf(db);
  if (q.cursor !== undefined && !SupplierId.safeParse(q.cursor).success) throw new Refusal('not_found', 'cursor: not a cursor this list gave out', 'cursor');
  const rows = await pg<SupplierView[]>`
    SELECT ${supplierColumns(pg)} FROM suppliers s JOIN locations l ON l.id = s.location_id
    WHERE s.id > ${q.cursor ?? ''}
      ${q.archived === 'all' ? pg`` : q.archived === 'true' ? pg`AND s.archived_at IS NOT NULL` : pg`AND s.archived_at IS NULL`}
      ${q.q ? pg`AND (s.id ILIKE ${`%${q.q}%`} OR s.name ILIKE ${`%${q.q}%`})` : pg``}
      ${q.location ? pg`AND l.code = ${q.location}` : pg``}
      ${q.tag ? pg`AND EXISTS (SELECT FROM supplier_variants sv JOIN variants v ON v.id = sv.variant_id JOIN items i ON i.id = v.item_id WHERE sv.supplier_id = s.id AND i.tags @> ARRAY[${q.tag}]::text[])` : pg``}
    ORDER BY s.id LIMIT ${q.limit + 1}`;
  const more = rows.length > q.limit;
  const items = more ? rows.slice(0, q.limit) : [...rows];
  return { items, nextCursor: more ? items[items.length - 1].id : null };
}

export async function getSupplier(db: Db, supplierId: string) {
  const pg = clientOf(db);
  const [supplier] = await pg<SupplierView[]>`SELECT ${supplierColumns(pg)} FROM suppliers s JOIN locations l ON l.id = s.location_id WHERE s.id = ${supplierId}`;
  if (!supplier) return undefined;
  const supplies = await pg<{ sku: string; cost: number | null; currency: string | null }[]>`
    SELECT v.sku, sv.cost::float8 AS cost, sv.currency FROM supplier_variants sv JOIN variants v ON v.id = sv.variant_id
    WHERE sv.supplier_id = ${supplierId} ORDER BY v.sku`;
  return { ...supplier, variants: supplies };
}

/** Which variants a supplier supplies and at what cost; listed ones are added or updated, others kept. */
export async function setSupplierVariants(db: Db, supplierId: string, entries: { sku: string; cost?: number; currency?: string }[]): Promise<{ supplierId: string; saved: number }> {
  await requireActiveSupplier(db, supplierId);
  const pg = clientOf(db);
  // One JSON document, parsed once by Postgres (as the ledger's batch sends its rows).
  const document = JSON.stringify(entries.map((e) => ({ sku: e.sku, cost: e.cost ?? null, currency: e.currency ?? null })));
  const rows = await pg<{ sku: string; found: boolean }[]>`
    SELECT e.sku, v.id IS NOT NULL AS found FROM jsonb_to_recordset(${document}::jsonb) AS e(sku text) LEFT JOIN variants v ON v.sku = e.sku`;
  const unknown = rows.filter((r) => !r.found).map((r) => r.sku);
  if (unknown.length > 0) throw new StockRefusal('unknown_sku', `unknown SKU(s): ${unknown.join(', ')}`, 'sku');
  await pg`
    INSERT INTO supplier_variants (supplier_id, variant_id, cost, currency)
    SELECT ${supplierId}, v.id, e.cost, e.currency
    FROM jsonb_to_recordset(${document}::jsonb) AS e(sku text, cost numeric, currency text)
    JOIN variants v ON v.sku = e.sku
    ORDER BY v.id
    ON CONFLICT (supplier_id, variant_id) DO UPDATE SET cost = excluded.cost, currency = excluded.currency, updated_at = now()`;
  return { supplierId, saved: entries.length };
}
