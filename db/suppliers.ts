import { eq, inArray, sql } from 'drizzle-orm';
import { Refusal } from '../domain/refusal';
import type { Db } from './connection';
import { StockRefusal } from './errors';
import { auditLog, locations, supplierSkuMap, suppliers, variants } from './schema';

export interface SupplierEntry {
  id: string;
  name: string;
  location: string;
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
  await db
    .insert(suppliers)
    .values({ id: supplier.id, name: supplier.name, locationId: location.id })
    .onConflictDoUpdate({ target: suppliers.id, set: { name: supplier.name, locationId: location.id } });
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
