/**
 * The one CSV reader (RFC 4180): fields separated by commas, records by CRLF, LF or CR; a field in
 * double quotes may hold commas, line breaks and `""` for a quote; a byte-order mark at the start is
 * dropped; blank lines are skipped. Supplier feeds, reconciliation snapshots and catalogue imports
 * read their files through it.
 */

/** One record and the line it starts on (from 1; a quoted field may carry it over several lines). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** A CSV file: its header row (empty for an empty file) and every record after it. */
export interface CsvTable {
  header: string[];
  rows: CsvRecord[];
}

/** Text that is not CSV; the message names the line. */
export class CsvFormatError extends Error {
  readonly name = 'CsvFormatError';
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const BOM = 0xfeff;

interface Parsed {
  record: CsvRecord;
  blank: boolean;
  next: number;
  nextLine: number;
}

/**
 * Reads CSV given in pieces of any size (a stream's chunks, or the whole text at once): `write`
 * returns the records the text so far completes, `end` the last one. A record split across pieces
 * waits for the rest.
 */
export class CsvReader {
  private buffer = '';
  private line = 1;
  private started = false;

  write(chunk: string): CsvRecord[] {
    this.buffer += chunk;
    return this.drain(false);
  }

  end(): CsvRecord[] {
    return this.drain(true);
  }

  private drain(final: boolean): CsvRecord[] {
    if (!this.started && this.buffer.length > 0) {
      if (this.buffer.charCodeAt(0) === BOM) this.buffer = this.buffer.slice(1);
      this.started = true;
    }
    const text = this.buffer;
    const records: CsvRecord[] = [];
    let pos = 0;
    let line = this.line;
    while (pos < text.length) {
      const parsed = parseRecord(text, pos, line, final);
      if (!parsed) break;
      if (!parsed.blank) records.push(parsed.record);
      pos = parsed.next;
      line = parsed.nextLine;
    }
    this.buffer = text.slice(pos);
    this.line = line;
    return records;
  }
}

/** Parses the record at `start`; undefined when the text ends inside it and more may come. */
function parseRecord(text: string, start: number, line: number, final: boolean): Parsed | undefined {
  const fields: string[] = [];
  let pos = start;
  let currentLine = line;
  let quoted = false;
  for (;;) {
    let value = '';
    if (text.charCodeAt(pos) === QUOTE) {
      quoted = true;
      const openedOn = currentLine;
      let from = pos + 1;
      for (;;) {
        const close = text.indexOf('"', from);
        if (close === -1 || (close + 1 === text.length && !final)) {
          if (!final) return undefined;
          throw new CsvFormatError(openedOn, 'a quoted field opened on this line is never closed');
        }
        value += text.slice(from, close);
        if (text.charCodeAt(close + 1) !== QUOTE) {
          pos = close + 1;
          break;
        }
        value += '"';
        from = close + 2;
      }
      currentLine += lineBreaks(value);
      const after = text.charCodeAt(pos);
      if (pos < text.length && after !== COMMA && after !== LF && after !== CR) {
        throw new CsvFormatError(currentLine, `unexpected text after a closing quote: ${JSON.stringify(text.slice(pos, pos + 20))}`);
      }
    } else {
      let end = pos;
      while (end < text.length) {
        const c = text.charCodeAt(end);
        if (c === COMMA || c === LF || c === CR) break;
        end++;
      }
      if (end === text.length && !final) return undefined;
      value = text.slice(pos, end);
      pos = end;
    }
    fields.push(value);
    const record = { line, fields };
    const blank = !quoted && fields.length === 1 && value.trim() === '';
    if (pos === text.length) return { record, blank, next: pos, nextLine: currentLine };
    const c = text.charCodeAt(pos);
    if (c === COMMA) {
      pos++;
      continue;
    }
    // A CR at the end of the text so far may be the first half of a CRLF.
    if (c === CR && pos + 1 === text.length && !final) return undefined;
    pos += c === CR && text.charCodeAt(pos + 1) === LF ? 2 : 1;
    return { record, blank, next: pos, nextLine: currentLine + 1 };
  }
}

function lineBreaks(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === LF || (c === CR && value.charCodeAt(i + 1) !== LF)) count++;
  }
  return count;
}

/** The whole text as a header and rows. */
export function readCsv(text: string): CsvTable {
  const reader = new CsvReader();
  const [header, ...rows] = [...reader.write(text), ...reader.end()];
  return { header: header?.fields ?? [], rows };
}

/**
 * The cells of the named columns, row by row, with the header matched without regard to case or
 * surrounding spaces; `missing` lists the columns the header lacks. A short row's missing cells
 * are undefined.
 */
export function selectColumns<C extends string>(
  table: CsvTable,
  columns: readonly C[],
): { missing: C[]; rows: { line: number; cells: Record<C, string | undefined> }[] } {
  const header = table.header.map((h) => h.trim().toLowerCase());
  const missing = columns.filter((c) => !header.includes(c));
  const index = columns.map((c) => [c, header.indexOf(c)] as const);
  const rows = table.rows.map(({ line, fields }) => {
    const cells = {} as Record<C, string | undefined>;
    for (const [column, i] of index) cells[column] = fields[i];
    return { line, cells };
  });
  return { missing, rows };
}
