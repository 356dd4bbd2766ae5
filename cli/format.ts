import type { StockLevels } from '../schemas/stock';

/** A plain table of the buckets, one row per location and a total. */
export function formatStockLevels(levels: StockLevels): string {
  const header = ['location', 'on hand', 'reserved', 'committed', 'incoming', 'available', 'count'];
  const rows = levels.locations.map((l) => [l.location, l.onHand, l.reserved, l.committed, l.incoming, l.available, l.countStatus].map(String));
  const t = levels.total;
  rows.push(['TOTAL', t.onHand, t.reserved, t.committed, t.incoming, t.available, ''].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [`${levels.sku} — ${levels.itemName}${levels.allowNegative ? ' (may go negative)' : ''}`, line(header), ...rows.map(line)].join('\n');
}

/** Left-aligned columns as wide as their widest cell, two spaces apart. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i].length)));
  return [header, ...rows].map((line) => line.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
