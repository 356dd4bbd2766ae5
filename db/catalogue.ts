import { sql } from 'drizzle-orm';
import { Refusal } from '../domain/refusal';
import {
  Catalogue,
  type Archival,
  type ItemCreate,
  type ItemUpdate,
  type ListQuery,
  type LocationUpsert,
  type VariantFields,
  type VariantUpdate,
} from '../schemas/catalogue';
import { clientOf, isoAt, type Sql } from './client';
import type { Db } from './connection';
import { StockRefusal } from './errors';
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

/** A page of a list and the cursor of the next one (none on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

function page<T>(rows: T[], limit: number, cursorOf: (row: T) => string): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextCursor: more ? cursorOf(items[items.length - 1]) : null };
}

/** A numeric keyset cursor; anything else is refused naming the field. */
function idCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^\d{1,10}$/.test(cursor)) throw new Refusal('not_found', 'cursor: not a cursor this list gave out', 'cursor');
  return Number(cursor);
}

const like = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function archivedFilter(pg: Sql, column: string, archived: ListQuery['archived']) {
  if (archived === 'all') return pg``;
  return archived === 'true' ? pg`AND ${pg(column)} IS NOT NULL` : pg`AND ${pg(column)} IS NULL`;
}

// Items and variants.

export interface VariantView {
  sku: string;
  barcode: string | null;
  options: Record<string, string>;
  unitOfMeasure: string;
  packSize: number;
  allowNegative: boolean;
  price: number | null;
  cost: number | null;
  currency: string | null;
  archivedAt: string | null;
}

export interface ItemView {
  id: number;
  handle: string | null;
  name: string;
  vendor: string | null;
  tags: string[];
  allowNegative: boolean;
  archivedAt: string | null;
  variantCount: number;
}

const itemColumns = (pg: Sql) => pg`
  i.id, i.handle, i.name, i.vendor, i.tags, i.allow_negative AS "allowNegative",
  ${isoAt(pg, 'i.archived_at')} AS "archivedAt",
  (SELECT count(*)::int FROM variants v WHERE v.item_id = i.id) AS "variantCount"`;

const variantColumns = (pg: Sql) => pg`
  v.sku, v.barcode, v.options, v.unit_of_measure AS "unitOfMeasure", v.pack_size AS "packSize", v.allow_negative AS "allowNegative",
  p.price::float8 AS price, p.cost::float8 AS cost, p.currency,
  ${isoAt(pg, 'v.archived_at')} AS "archivedAt"`;

const currentPrice = (pg: Sql) => pg`
  LEFT JOIN LATERAL (
    SELECT price, cost, currency FROM variant_prices WHERE variant_id = v.id ORDER BY valid_from DESC, id DESC LIMIT 1
  ) p ON true`;

export async function createItem(db: Db, input: ItemCreate, actor: string): Promise<ItemView & { variants: VariantView[] }> {
  const id = await clientOf(db).begin(async (tx) => {
    const [item] = await tx<{ id: number }[]>`
      INSERT INTO items (handle, name, vendor, tags, allow_negative)
      VALUES (${input.handle ?? null}, ${input.name}, ${input.vendor ?? null}, ${input.tags}, ${input.allowNegative})
      ON CONFLICT (handle) DO NOTHING RETURNING id`;
    if (!item) throw new Refusal('already_exists', `an item with handle "${input.handle}" exists already; update it instead`, 'handle');
    for (const variant of input.variants) await insertVariant(tx, item.id, variant, actor);
    await audit(tx, actor, 'item.created', 'item', String(item.id), { handle: input.handle, skus: input.variants.map((v) => v.sku) });
    return item.id;
  });
  return (await getItem(db, id)) as ItemView & { variants: VariantView[] };
}

async function insertVariant(tx: Sql, itemId: number, v: VariantFields, actor: string): Promise<void> {
  const [created] = await tx<{ id: number }[]>`
    INSERT INTO variants (item_id, sku, allow_negative, barcode, options, unit_of_measure, pack_size)
    SELECT ${itemId}, ${v.sku}, allow_negative, ${v.barcode ?? null}, ${JSON.stringify(v.options)}::jsonb, ${v.unitOfMeasure}, ${v.packSize}
    FROM items WHERE id = ${itemId}
    ON CONFLICT (sku) DO NOTHING RETURNING id`;
  if (!created) throw new Refusal('already_exists', `SKU "${v.sku}" exists already`, 'sku');
  if (v.price !== undefined || v.cost !== undefined) await appendPrice(tx, created.id, v.price ?? null, v.cost ?? null, v.currency, actor);
}

function appendPrice(tx: Sql, variantId: number, price: number | null, cost: number | null, currency: string, source: string) {
  return tx`INSERT INTO variant_prices (variant_id, price, cost, currency, source) VALUES (${variantId}, ${price}, ${cost}, ${currency}, ${source})`;
}

function audit(tx: Sql, actor: string, action: string, subjectType: string, subjectId: string, details: unknown) {
  return tx`INSERT INTO audit_log (actor, action, subject_type, subject_id, details) VALUES (${actor}, ${action}, ${subjectType}, ${subjectId}, ${JSON.stringify(details)}::jsonb)`;
}

export async function getItem(db: Db, id: number): Promise<(ItemView & { variants: VariantView[] }) | undefined> {
  const pg = clientOf(db);
  const [item] = await pg<ItemView[]>`SELECT ${itemColumns(pg)} FROM items i WHERE i.id = ${id}`;
  if (!item) return undefined;
  const list = await pg<VariantView[]>`SELECT ${variantColumns(pg)} FROM variants v ${currentPrice(pg)} WHERE v.item_id = ${id} ORDER BY v.id`;
  return { ...item, variants: list };
}

export async function updateItem(db: Db, id: number, update: ItemUpdate, actor: string): Promise<ItemView & { variants: VariantView[] }> {
  await clientOf(db).begin(async (tx) => {
    const set = {
      ...(update.handle !== undefined && { handle: update.handle }),
      ...(update.name !== undefined && { name: update.name }),
      ...(update.vendor !== undefined && { vendor: update.vendor }),
      ...(update.tags !== undefined && { tags: update.tags }),
      ...(update.allowNegative !== undefined && { allow_negative: update.allowNegative }),
    };
    const [row] = await tx`UPDATE items SET ${tx(set)}, updated_at = now() WHERE id = ${id} RETURNING id`;
    if (!row) throw new Refusal('not_found', `no item ${id}`, 'itemId');
    await audit(tx, actor, 'item.updated', 'item', String(id), update);
  });
  return (await getItem(db, id)) as ItemView & { variants: VariantView[] };
}

export async function listItems(db: Db, q: ListQuery): Promise<Page<ItemView>> {
  const pg = clientOf(db);
  const rows = await pg<ItemView[]>`
    SELECT ${itemColumns(pg)} FROM items i
    WHERE i.id > ${idCursor(q.cursor)} ${archivedFilter(pg, 'i.archived_at', q.archived)}
      ${q.q ? pg`AND (i.name ILIKE ${like(q.q)} OR i.handle ILIKE ${like(q.q)} OR EXISTS (SELECT FROM variants v WHERE v.item_id = i.id AND (v.sku ILIKE ${like(q.q)} OR v.barcode = ${q.q})))` : pg``}
      ${q.tag ? pg`AND i.tags @> ARRAY[${q.tag}]::text[]` : pg``}
      ${q.location ? pg`AND EXISTS (SELECT FROM variants v JOIN stock_balances b ON b.variant_id = v.id JOIN locations l ON l.id = b.location_id WHERE v.item_id = i.id AND l.code = ${q.location})` : pg``}
    ORDER BY i.id LIMIT ${q.limit + 1}`;
  return page(rows, q.limit, (r) => String(r.id));
}

export async function addVariant(db: Db, itemId: number, v: VariantFields, actor: string): Promise<VariantView & { itemId: number }> {
  await clientOf(db).begin(async (tx) => {
    const [item] = await tx`SELECT id FROM items WHERE id = ${itemId} FOR UPDATE`;
    if (!item) throw new Refusal('not_found', `no item ${itemId}`, 'itemId');
    await insertVariant(tx, itemId, v, actor);
    await audit(tx, actor, 'variant.created', 'variant', v.sku, { itemId });
  });
  return (await getVariant(db, v.sku)) as VariantView & { itemId: number };
}

export interface PriceRow {
  price: number | null;
  cost: number | null;
  currency: string;
  validFrom: string;
  source: string;
}

export async function getVariant(db: Db, sku: string): Promise<(VariantView & { itemId: number; itemName: string; prices: PriceRow[] }) | undefined> {
  const pg = clientOf(db);
  const [variant] = await pg<(VariantView & { id: number; itemId: number; itemName: string })[]>`
    SELECT v.id, v.item_id AS "itemId", i.name AS "itemName", ${variantColumns(pg)}
    FROM variants v JOIN items i ON i.id = v.item_id ${currentPrice(pg)} WHERE v.sku = ${sku}`;
  if (!variant) return undefined;
  const prices = await pg<PriceRow[]>`
    SELECT price::float8 AS price, cost::float8 AS cost, currency, ${isoAt(pg, 'valid_from')} AS "validFrom", source
    FROM variant_prices WHERE variant_id = ${variant.id} ORDER BY valid_from DESC, id DESC`;
  const { id: _id, ...view } = variant;
  return { ...view, prices };
}

/** Changes a variant; a price, cost or currency sent appends a row to its price history (the others carried over). */
export async function updateVariant(db: Db, sku: string, update: VariantUpdate, actor: string) {
  await clientOf(db).begin(async (tx) => {
    const [variant] = await tx<{ id: number; price: number | null; cost: number | null; currency: string | null }[]>`
      SELECT v.id, p.price::float8 AS price, p.cost::float8 AS cost, p.currency FROM variants v ${currentPrice(tx)} WHERE v.sku = ${sku} FOR UPDATE OF v`;
    if (!variant) throw new StockRefusal('unknown_sku', `unknown SKU "${sku}"`, 'sku');
    const set = {
      ...(update.barcode !== undefined && { barcode: update.barcode }),
      ...(update.options !== undefined && { options: JSON.stringify(update.options) }),
      ...(update.unitOfMeasure !== undefined && { unit_of_measure: update.unitOfMeasure }),
      ...(update.packSize !== undefined && { pack_size: update.packSize }),
    };
    if (Object.keys(set).length > 0) await tx`UPDATE variants SET ${tx(set)}, updated_at = now() WHERE id = ${variant.id}`;
    if (update.price !== undefined || update.cost !== undefined || update.currency !== undefined) {
      await appendPrice(tx, variant.id, update.price ?? variant.price, update.cost ?? variant.cost, update.currency ?? variant.currency ?? 'USD', actor);
    }
    await audit(tx, actor, 'variant.updated', 'variant', sku, update);
  });
  return getVariant(db, sku);
}

export async function listVariants(db: Db, q: ListQuery): Promise<Page<VariantView & { itemId: number }>> {
  const pg = clientOf(db);
  const rows = await pg<(VariantView & { id: number; itemId: number })[]>`
    SELECT v.id, v.item_id AS "itemId", ${variantColumns(pg)}
    FROM variants v JOIN items i ON i.id = v.item_id ${currentPrice(pg)}
    WHERE v.id > ${idCursor(q.cursor)} ${archivedFilter(pg, 'v.archived_at', q.archived)}
      ${q.q ? pg`AND (v.sku ILIKE ${like(q.q)} OR v.barcode = ${q.q} OR i.name ILIKE ${like(q.q)})` : pg``}
      ${q.tag ? pg`AND i.tags @> ARRAY[${q.tag}]::text[]` : pg``}
      ${q.location ? pg`AND EXISTS (SELECT FROM stock_balances b JOIN locations l ON l.id = b.location_id WHERE b.variant_id = v.id AND l.code = ${q.location})` : pg``}
    ORDER BY v.id LIMIT ${q.limit + 1}`;
  const result = page(rows, q.limit, (r) => String(r.id));
  return { ...result, items: result.items.map(({ id: _id, ...v }) => v) };
}

export interface ArchiveOutcome {
  archivedAt: string | null;
  /** False when it already was in the state asked for. */
  changed: boolean;
}

/**
 * Archives (or restores) variants: their history stays, new reservations are refused. A variant
 * still holding stock (on hand, reserved or committed anywhere) is refused: sell, move or write
 * it off first, so nothing is stranded under a SKU nobody sees.
 */
async function setVariantsArchived(tx: Sql, variantIds: number[], archived: boolean, what: string): Promise<void> {
  if (archived) {
    const held = await tx<{ sku: string; location: string; onHand: number; reserved: number; committed: number }[]>`
      SELECT v.sku, l.code AS location, b.on_hand AS "onHand", b.reserved, b.committed
      FROM stock_balances b JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id
      WHERE b.variant_id = ANY(${variantIds}::int[]) AND (b.on_hand <> 0 OR b.reserved <> 0 OR b.committed <> 0)
      ORDER BY v.sku, l.code LIMIT 10
      FOR UPDATE OF b`;
    if (held.length > 0) {
      const where = held.map((h) => `${h.sku} at ${h.location}: on hand ${h.onHand}, reserved ${h.reserved}, committed ${h.committed}`).join('; ');
      throw new Refusal('archive_has_stock', `${what} still holds stock (${where}); sell, transfer or write it off before archiving`, 'sku');
    }
  }
  await tx`UPDATE variants SET archived_at = ${archived ? tx`now()` : null}, updated_at = now() WHERE id = ANY(${variantIds}::int[]) AND (archived_at IS NULL) = ${archived}`;
}

export async function setItemArchived(db: Db, itemId: number, archived: boolean, by: Archival): Promise<ArchiveOutcome> {
  return clientOf(db).begin(async (tx) => {
    const [item] = await tx<{ archivedAt: string | null }[]>`SELECT ${isoAt(tx, 'archived_at')} AS "archivedAt" FROM items WHERE id = ${itemId} FOR UPDATE`;
    if (!item) throw new Refusal('not_found', `no item ${itemId}`, 'itemId');
    if (Boolean(item.archivedAt) === archived) return { archivedAt: item.archivedAt, changed: false };
    const ids = (await tx<{ id: number }[]>`SELECT id FROM variants WHERE item_id = ${itemId} ORDER BY id FOR UPDATE`).map((r) => r.id);
    await setVariantsArchived(tx, ids, archived, `item ${itemId}`);
    const [row] = await tx<{ archivedAt: string | null }[]>`
      UPDATE items SET archived_at = ${archived ? tx`now()` : null}, updated_at = now() WHERE id = ${itemId} RETURNING ${isoAt(tx, 'archived_at')} AS "archivedAt"`;
    await audit(tx, by.by, archived ? 'item.archived' : 'item.restored', 'item', String(itemId), { reason: by.reason });
    return { archivedAt: row.archivedAt, changed: true };
  });
}

export async function setVariantArchived(db: Db, sku: string, archived: boolean, by: Archival): Promise<ArchiveOutcome> {
  return clientOf(db).begin(async (tx) => {
    const [variant] = await tx<{ id: number; archivedAt: string | null; itemArchived: boolean }[]>`
      SELECT v.id, ${isoAt(tx, 'v.archived_at')} AS "archivedAt", i.archived_at IS NOT NULL AS "itemArchived"
      FROM variants v JOIN items i ON i.id = v.item_id WHERE v.sku = ${sku} FOR UPDATE OF v`;
    if (!variant) throw new StockRefusal('unknown_sku', `unknown SKU "${sku}"`, 'sku');
    if (Boolean(variant.archivedAt) === archived) return { archivedAt: variant.archivedAt, changed: false };
    if (!archived && variant.itemArchived) throw new Refusal('item_archived', `the item of ${sku} is archived: restore the item`, 'sku');
    await setVariantsArchived(tx, [variant.id], archived, sku);
    const [row] = await tx<{ archivedAt: string | null }[]>`SELECT ${isoAt(tx, 'archived_at')} AS "archivedAt" FROM variants WHERE id = ${variant.id}`;
    await audit(tx, by.by, archived ? 'variant.archived' : 'variant.restored', 'variant', sku, { reason: by.reason });
    return { archivedAt: row.archivedAt, changed: true };
  });
}

// Locations.

export interface LocationView {
  code: string;
  name: string;
  kind: string;
  channels: string[];
  archivedAt: string | null;
}

const locationColumns = (pg: Sql) => pg`
  l.code, l.name, l.kind, l.channels, ${isoAt(pg, 'l.archived_at')} AS "archivedAt"`;

export async function upsertLocation(db: Db, code: string, input: LocationUpsert, actor: string): Promise<LocationView> {
  return clientOf(db).begin(async (tx) => {
    await tx`
      INSERT INTO locations (code, name, kind, channels) VALUES (${code}, ${input.name}, ${input.kind}, ${input.channels})
      ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, channels = excluded.channels`;
    await audit(tx, actor, 'location.saved', 'location', code, input);
    const [row] = await tx<LocationView[]>`SELECT ${locationColumns(tx)} FROM locations l WHERE l.code = ${code}`;
    return row;
  });
}

export async function getLocation(db: Db, code: string): Promise<(LocationView & { balances: number; onHand: number }) | undefined> {
  const pg = clientOf(db);
  const [row] = await pg<(LocationView & { balances: number; onHand: number })[]>`
    SELECT ${locationColumns(pg)},
           (SELECT count(*)::int FROM stock_balances b WHERE b.location_id = l.id) AS balances,
           (SELECT coalesce(sum(on_hand), 0)::int8::float8 FROM stock_balances b WHERE b.location_id = l.id) AS "onHand"
    FROM locations l WHERE l.code = ${code}`;
  return row;
}

export async function listLocations(db: Db, q: ListQuery): Promise<Page<LocationView>> {
  const pg = clientOf(db);
  const rows = await pg<(LocationView & { id: number })[]>`
    SELECT l.id, ${locationColumns(pg)} FROM locations l
    WHERE l.id > ${idCursor(q.cursor)} ${archivedFilter(pg, 'l.archived_at', q.archived)}
      ${q.q ? pg`AND (l.code ILIKE ${like(q.q)} OR l.name ILIKE ${like(q.q)})` : pg``}
      ${q.tag ? pg`AND l.channels @> ARRAY[${q.tag}]::text[]` : pg``}
      ${q.location ? pg`AND l.code = ${q.location}` : pg``}
    ORDER BY l.id LIMIT ${q.limit + 1}`;
  const result = page(rows, q.limit, (r) => String(r.id));
  return { ...result, items: result.items.map(({ id: _id, ...l }) => l) };
}

export async function setLocationArchived(db: Db, code: string, archived: boolean, by: Archival): Promise<ArchiveOutcome> {
  return clientOf(db).begin(async (tx) => {
    const [location] = await tx<{ id: number; archivedAt: string | null }[]>`SELECT id, ${isoAt(tx, 'archived_at')} AS "archivedAt" FROM locations WHERE code = ${code} FOR UPDATE`;
    if (!location) throw new StockRefusal('unknown_location', `unknown location "${code}"`, 'location');
    if (Boolean(location.archivedAt) === archived) return { archivedAt: location.archivedAt, changed: false };
    if (archived) {
      const [held] = await tx<{ n: number }[]>`
        SELECT count(*)::int AS n FROM stock_balances WHERE location_id = ${location.id} AND (on_hand <> 0 OR reserved <> 0 OR committed <> 0)`;
      if (held.n > 0) throw new Refusal('archive_has_stock', `location ${code} still holds stock in ${held.n} balance(s); move or write it off before archiving`, 'location');
    }
    const [row] = await tx<{ archivedAt: string | null }[]>`
      UPDATE locations SET archived_at = ${archived ? tx`now()` : null} WHERE id = ${location.id} RETURNING ${isoAt(tx, 'archived_at')} AS "archivedAt"`;
    await audit(tx, by.by, archived ? 'location.archived' : 'location.restored', 'location', code, { reason: by.reason });
    return { archivedAt: row.archivedAt, changed: true };
  });
}
