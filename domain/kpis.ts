import type { Kpis, UnitsAtRisk } from '../schemas/kpis';

// Pure: turns the database's raw KPI figures (db/kpis.ts) into the shares, series and values that
// docs/kpis.md defines. No I/O, so every formula has a unit test.

/** Unit prices by SKU; absent until the catalogue has prices. */
export type PriceBook = ReadonlyMap<string, number>;

/**
 * The one place units become money. Without a price book every value is null (the KPI is live in
 * units only); with one, a SKU without a price counts as 0 so a partial book still sums.
 */
export function valueAtPrice(units: readonly UnitsAtRisk[], prices: PriceBook | undefined): number | null {
  if (!prices) return null;
  return units.reduce((sum, u) => sum + u.units * (prices.get(u.sku) ?? 0), 0);
}

/** numerator / denominator, or null when nothing was measured. */
export function share(numerator: number, denominator: number): { numerator: number; denominator: number; share: number | null } {
  return { numerator, denominator, share: denominator > 0 ? numerator / denominator : null };
}

/**
 * Turns over a window: what was issued over the average of opening and closing stock, in units
 * or in money (cost of goods issued over average inventory value); null when nothing was held.
 */
export function turns(issued: number, opening: number, closing: number): number | null {
  const average = (opening + closing) / 2;
  return average > 0 ? issued / average : null;
}

export interface WindowSplit {
  /** Whole UTC days [first, end) that a rollup holds, as YYYY-MM-DD; absent when it holds none of the window. */
  days?: { first: string; end: string };
  /** The rest of the window, read from the ledger. */
  live: { from: Date; to: Date }[];
}

const DAY_MS = 86_400_000;
const midnightOf = (t: Date) => new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
const dayText = (t: Date) => t.toISOString().slice(0, 10);

/**
 * A window [from, to) split into the whole UTC days a rollup holds (every day up to `through`,
 * inclusive) and the instants before and after them.
 */
export function splitWindow(from: Date, to: Date, through: string | null): WindowSplit {
  const fromMidnight = midnightOf(from);
  const first = fromMidnight.getTime() === from.getTime() ? fromMidnight : new Date(fromMidnight.getTime() + DAY_MS);
  const afterRolled = through === null ? first : new Date(Date.parse(`${through}T00:00:00Z`) + DAY_MS);
  const end = new Date(Math.min(midnightOf(to).getTime(), afterRolled.getTime()));
  if (end <= first) return { live: [{ from, to }] };
  const live = [
    { from, to: first },
    { from: end, to },
  ].filter((range) => range.from < range.to);
  return { days: { first: dayText(first), end: dayText(end) }, live };
}

/**
 * What a stale channel figure puts at risk: the units between what the channel shows and what it
 * should (too many is an oversell waiting to happen, too few a sale lost); a figure never
 * published is unconfirmed whole.
 */
export function staleUnits(stale: readonly { sku: string; published: number | null; current: number }[]): { sku: string; units: number }[] {
  return stale.flatMap(({ sku, published, current }) => {
    const units = published === null ? current : Math.abs(published - current);
    return units > 0 ? [{ sku, units }] : [];
  });
}

/** Every UTC day the window touches, oldest first, as YYYY-MM-DD. */
export function windowDays(from: Date, to: Date): string[] {
  const days: string[] = [];
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  while (day < to) {
    days.push(day.toISOString().slice(0, 10));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return days;
}

/** A value per day, zero where no row says otherwise. */
export function series(days: readonly string[], values: ReadonlyMap<string, number> | Record<string, number>): number[] {
  const get = values instanceof Map ? (d: string) => values.get(d) : (d: string) => (values as Record<string, number>)[d];
  return days.map((d) => get(d) ?? 0);
}

export interface DailyRow {
  day: string;
  metric: string;
  key: string;
  value: number;
}

/** The rows of one metric (and key, when given) by day. */
function byDay(rows: readonly DailyRow[], metric: string, key?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    if (r.metric !== metric || (key !== undefined && r.key !== key)) continue;
    out.set(r.day, (out.get(r.day) ?? 0) + Number(r.value));
  }
  return out;
}

/** Per-day trend series for the charts; within-tolerance share is null on a day without counts. */
export function trendOf(days: readonly string[], rows: readonly DailyRow[], stockoutsByDay: Record<string, number>): Kpis['trend'] {
  const counted = byDay(rows, 'count');
  const ok = byDay(rows, 'count', 'ok');
  const reasons = [...new Set(rows.filter((r) => r.metric === 'adjustment').map((r) => r.key))].sort();
  const shrinkage = new Map<string, number>();
  for (const r of rows) if (r.metric === 'adjustment' && Number(r.value) < 0) shrinkage.set(r.day, (shrinkage.get(r.day) ?? 0) - Number(r.value));
  return {
    days: [...days],
    exceptionsOpened: series(days, byDay(rows, 'exceptionsOpened')),
    exceptionsResolved: series(days, byDay(rows, 'exceptionsResolved')),
    shrinkageUnits: series(days, shrinkage),
    feedLinesReceived: series(days, byDay(rows, 'feedLine')),
    feedLinesFailed: series(days, byDay(rows, 'feedLine', 'failed')),
    stockouts: series(days, stockoutsByDay),
    countsWithinTolerance: days.map((d) => (counted.get(d) ? (ok.get(d) ?? 0) / (counted.get(d) as number) : null)),
    adjustmentsByReason: Object.fromEntries(reasons.map((reason) => [reason, series(days, byDay(rows, 'adjustment', reason))])),
  };
}

/** Failed updates over received, per source. */
export function failedRate(row: { received: number; refused: number; rejected: number; held: number }): number | null {
  return row.received > 0 ? (row.refused + row.rejected + row.held) / row.received : null;
}

/** Sums units per SKU across parts, so one SKU held in two places is valued once per unit. */
export function unitsBySku(rows: readonly { sku: string; units: number }[]): UnitsAtRisk[] {
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.sku, (out.get(r.sku) ?? 0) + Number(r.units));
  return [...out].map(([sku, units]) => ({ sku, units })).sort((a, b) => b.units - a.units || a.sku.localeCompare(b.sku));
}
