import { asc, eq } from 'drizzle-orm';
import type { CountStatus, StockLevels } from '../schemas/stock';
import type { Db } from './connection';
import { items, locations, stockBalances, variants } from './schema';

/** The five buckets of a SKU per location and in total, or undefined for an unknown SKU. */
export async function getStockLevels(db: Db, sku: string): Promise<StockLevels | undefined> {
  const [variant] = await db
    .select({ id: variants.id, allowNegative: variants.allowNegative, itemName: items.name })
    .from(variants)
    .innerJoin(items, eq(items.id, variants.itemId))
    .where(eq(variants.sku, sku));
  if (!variant) return undefined;
  const rows = await db
    .select({
      location: locations.code,
      onHand: stockBalances.onHand,
      reserved: stockBalances.reserved,
      committed: stockBalances.committed,
      incoming: stockBalances.incoming,
      available: stockBalances.available,
      countStatus: stockBalances.countStatus,
    })
    .from(stockBalances)
    .innerJoin(locations, eq(locations.id, stockBalances.locationId))
    .where(eq(stockBalances.variantId, variant.id))
    .orderBy(asc(locations.code));
  const sum = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((acc, r) => acc + pick(r), 0);
  return {
    sku,
    itemName: variant.itemName,
    allowNegative: variant.allowNegative,
    locations: rows.map((r) => ({ ...r, countStatus: r.countStatus as CountStatus })),
    total: {
      onHand: sum((r) => r.onHand),
      reserved: sum((r) => r.reserved),
      committed: sum((r) => r.committed),
      incoming: sum((r) => r.incoming),
      available: sum((r) => r.available),
    },
  };
}
