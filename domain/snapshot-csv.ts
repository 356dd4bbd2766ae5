import { CsvFormatError, readCsv, selectColumns } from './csv';

const COLUMNS = ['sku', 'location', 'on_hand'] as const;

/**
 * The lines of a system-of-record snapshot sent as CSV with a `sku,location,on_hand` header, as
 * `SnapshotImport` validates them (`onHand` a number when the cell is a whole number). Throws
 * CsvFormatError, naming the line, for text that is not such a CSV.
 */
export function snapshotLinesFromCsv(text: string): Record<string, unknown>[] {
  const { missing, rows } = selectColumns(readCsv(text), COLUMNS);
  if (missing.length > 0) throw new CsvFormatError(1, `the CSV header lacks ${missing.join(', ')}: expected "sku,location,on_hand"`);
  return rows.map(({ cells }) => {
    const onHand = cells.on_hand?.trim();
    return { sku: cells.sku?.trim(), location: cells.location?.trim(), onHand: onHand !== undefined && /^-?\d+$/.test(onHand) ? Number(onHand) : onHand };
  });
}
