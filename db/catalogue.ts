import { sql } from 'drizzle-orm';
import { Catalogue } from '../schemas/catalogue';
import type { Db } from './connection';
import { items, locations, variants } from './schema';

/** Adds locations, items and their SKUs; what already exists (by code or SKU) is left as it is. */
export async function addToCatalogue(db: Db, input: Catalogue): Promise<void> {
  const catalogue = Catalogue.parse(input);
  await db.transaction(async (tx) => {
    if (catalogue.locations.length > 0) {
      await tx.insert(locations).values(catalogue.locations).onConflictDoNothing({ target: locations.code });
    }
    for (const item of catalogue.items) {
      const [{ id }] = await tx.insert(items).values({ name: item.name, allowNegative: item.allowNegative }).returning({ id: items.id });
      await tx
        .insert(variants)
        .values(item.skus.map((sku) => ({ itemId: id, sku, allowNegative: item.allowNegative })))
        .onConflictDoNothing({ target: variants.sku });
    }
  });
}

export async function isCatalogueEmpty(db: Db): Promise<boolean> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(variants);
  return row.n === 0;
}
