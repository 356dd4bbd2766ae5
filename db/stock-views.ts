import { Refusal } from '../domain/refusal';
import type { StockListQuery } from '../schemas/catalogue';
import type { BalanceView } from '../schemas/stock';
import type { Page } from './catalogue';
import { clientOf } from './client';
import type { Db } from './connection';

export type BalanceRow = BalanceView & { sku: string };

/** The (variant, location) keyset cursor of GET /v1/stock. */
function balanceCursor(cursor: string | undefined): [number, number] {
  if (cursor === undefined) return [0, 0];
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(cursor);
  if (!match) throw new Refusal('not_found', 'cursor: not a cursor this list gave out', 'cursor');
  return [Number(match[1]), Number(match[2])];
}

/**
 * Balances in the order of their primary key (variant, location), so every page, the first one
 * included, is an index range scan from the cursor whatever the table's size; a location filter
 * walks stock_balances_location_idx in the same order.
 */
export async function listBalances(db: Db, q: StockListQuery): Promise<Page<BalanceRow>> {
  const pg = clientOf(db);
  const [variantId, locationId] = balanceCursor(q.cursor);
  const rows = await pg<(BalanceRow & { variantId: number; locationId: number })[]>`
    SELECT v.sku, l.code AS location, b.on_hand AS "onHand", b.reserved, b.committed, b.incoming, b.available,
           b.count_status AS "countStatus", b.variant_id AS "variantId", b.location_id AS "locationId"
    FROM stock_balances b
    JOIN variants v ON v.id = b.variant_id
    JOIN locations l ON l.id = b.location_id
    WHERE (b.variant_id, b.location_id) > (${variantId}, ${locationId})
      ${q.location ? pg`AND b.location_id = (SELECT id FROM locations WHERE code = ${q.location})` : pg``}
      ${q.skuPrefix ? pg`AND v.sku LIKE ${`${q.skuPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}` : pg``}
      ${q.tag ? pg`AND EXISTS (SELECT FROM items i WHERE i.id = v.item_id AND i.tags @> ARRAY[${q.tag}]::text[])` : pg``}
      ${q.availableAtMost !== undefined ? pg`AND b.available <= ${q.availableAtMost}` : pg``}
      ${q.blocked === 'true' ? pg`AND b.count_status = 'blocked'` : q.blocked === 'false' ? pg`AND b.count_status <> 'blocked'` : pg``}
      ${q.negative === 'true' ? pg`AND b.on_hand < 0` : q.negative === 'false' ? pg`AND b.on_hand >= 0` : pg``}
    ORDER BY b.variant_id, b.location_id
    LIMIT ${q.limit + 1}`;
  const more = rows.length > q.limit;
  const items = more ? rows.slice(0, q.limit) : rows;
  const last = items[items.length - 1];
  return {
    items: items.map(({ variantId: _v, locationId: _l, ...row }) => row),
    nextCursor: more ? `${last.variantId}:${last.locationId}` : null,
  };
}

export interface LevelsAsOf {
  sku: string;
  asOf: string;
  locations: Omit<BalanceView, 'countStatus'>[];
  total: Omit<BalanceView, 'location' | 'countStatus'>;
}

/**
 * The buckets of a SKU as they were at an instant, summed from the ledger: every movement is
 * stamped with the time of the transaction that wrote it, so this is exactly what a reader
 * committed at that instant could have seen. A count's selling block is not in the ledger, so
 * available here is on hand − reserved − committed.
 */
export async function stockLevelsAsOf(db: Db, sku: string, asOf: Date): Promise<LevelsAsOf | undefined> {
  const pg = clientOf(db);
  const [variant] = await pg<{ id: number }[]>`SELECT id FROM variants WHERE sku = ${sku}`;
  if (!variant) return undefined;
  const rows = await pg<Omit<BalanceView, 'countStatus'>[]>`
    SELECT l.code AS location, s.on_hand AS "onHand", s.reserved, s.committed, s.incoming, s.on_hand - s.reserved - s.committed AS available
    FROM (
      SELECT location_id, sum(delta_on_hand)::int AS on_hand, sum(delta_reserved)::int AS reserved,
             sum(delta_committed)::int AS committed, sum(delta_incoming)::int AS incoming
      FROM stock_movements WHERE variant_id = ${variant.id} AND created_at <= ${asOf.toISOString()}::timestamptz
      GROUP BY location_id
    ) s JOIN locations l ON l.id = s.location_id
    ORDER BY l.code`;
  const sum = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((acc, r) => acc + pick(r), 0);
  return {
    sku,
    asOf: asOf.toISOString(),
    locations: rows.map((r) => ({ ...r })),
    total: { onHand: sum((r) => r.onHand), reserved: sum((r) => r.reserved), committed: sum((r) => r.committed), incoming: sum((r) => r.incoming), available: sum((r) => r.available) },
  };
}
