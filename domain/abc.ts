/**
 * ABC classes by revenue (OPERATING-MODEL.md, cycle counting): the top share of SKUs by revenue
 * is A, the next share B, the rest C. Pure; db/counting.ts feeds it the revenue of every active SKU.
 */
export type AbcClass = 'A' | 'B' | 'C';

export interface AbcShares {
  /** Percent of SKUs that are A. */
  a: number;
  /** Percent of SKUs that are B, after the A ones. */
  b: number;
}

export interface SkuRevenue {
  sku: string;
  revenue: number;
}

export interface Classified extends SkuRevenue {
  abcClass: AbcClass;
  /** 1 for the best seller; SKUs of equal revenue share a rank. */
  rank: number;
}

/**
 * Classes every SKU given. The A cut is `ceil(n × a%)` SKUs and the A+B cut `ceil(n × (a+b)%)`, n
 * counting SKUs without sales too, so a catalogue of one selling SKU still has an A. A SKU with no
 * revenue is C whatever the cuts say (nothing to rank it by). Ties are never split by name: a SKU
 * whose revenue equals that of the last one inside a class is in that class too.
 */
export function classifyByRevenue(revenues: readonly SkuRevenue[], shares: AbcShares): Classified[] {
  if (shares.a < 0 || shares.b < 0 || shares.a + shares.b > 100) throw new Error('shares: A and B must be non-negative and together at most 100%');
  const sorted = [...revenues].sort((x, y) => y.revenue - x.revenue || (x.sku < y.sku ? -1 : x.sku > y.sku ? 1 : 0));
  const n = sorted.length;
  const aCut = Math.ceil((n * shares.a) / 100);
  const bCut = Math.ceil((n * (shares.a + shares.b)) / 100);
  const out: Classified[] = [];
  sorted.forEach((entry, i) => {
    const previous = out[i - 1];
    const tied = previous !== undefined && previous.revenue === entry.revenue;
    const rank = tied ? previous.rank : i + 1;
    const byPosition: AbcClass = i < aCut ? 'A' : i < bCut ? 'B' : 'C';
    const abcClass: AbcClass = entry.revenue <= 0 ? 'C' : tied ? previous.abcClass : byPosition;
    out.push({ ...entry, abcClass, rank });
  });
  return out;
}
