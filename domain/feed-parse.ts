/**
 * Splits a feed body into raw lines, numbered from 1 in the order the supplier sent them. Lines
 * are validated one by one later, so one malformed line never sinks the rest of the feed; only a
 * body that is not a feed at all (bad JSON, no header) is refused whole.
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
  const rows = splitCsv(body).filter((row) => !(row.length === 1 && row[0].trim() === ''));
  if (rows.length === 0) throw new FeedFormatError('the CSV feed is empty: expected a header row "sku,quantity,sequence"');
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new FeedFormatError(`the CSV header lacks column(s) ${missing.join(', ')}: expected "sku,quantity,sequence"`);
  const index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, header.indexOf(c)]));
  return {
    lines: rows.slice(1).map((row) => Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, row[index[c]]]))),
  };
}

/** RFC 4180 fields: commas and newlines inside double quotes, "" for a quote. */
function splitCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
