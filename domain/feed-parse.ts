import { CsvFormatError, readCsv, selectColumns, type CsvTable } from './csv';

/**
 * Splits a feed body into raw lines, numbered from 1 in the order the supplier sent them. Lines
 * are validated one by one later, so one malformed line never sinks the rest of the feed; only a
 * body that is not a feed at all (bad JSON, no header, an unclosed quote) is refused whole.
 */
export interface RawFeed {
  feedId?: string;
  lines: unknown[];
}

export class FeedFormatError extends Error {
  readonly name = 'FeedFormatError';
}

const REQUIRED_COLUMNS = ['sku', 'quantity', 'sequence'] as const;

export function parseCsvFeed(body: string): RawFeed {
  const table = feedTable(body);
  if (table.header.length === 0) throw new FeedFormatError('the CSV feed is empty: expected a header row "sku,quantity,sequence"');
  const { missing, rows } = selectColumns(table, REQUIRED_COLUMNS);
  if (missing.length > 0) throw new FeedFormatError(`the CSV header lacks column(s) ${missing.join(', ')}: expected "sku,quantity,sequence"`);
  return { lines: rows.map((row) => row.cells) };
}

function feedTable(body: string): CsvTable {
  try {
    return readCsv(body);
  } catch (error) {
    if (error instanceof CsvFormatError) throw new FeedFormatError(`the CSV feed is not valid CSV at ${error.message}`);
    throw error;
  }
}
