import assert from 'node:assert/strict';
import { CsvFormatError, CsvReader, readCsv, selectColumns, type CsvRecord } from '../domain/csv';
import { FeedFormatError, parseCsvFeed } from '../domain/feed-parse';
import { snapshotLinesFromCsv } from '../domain/snapshot-csv';

/** Every RFC 4180 feature at once: quoted commas, quotes, a line break inside a field, CRLF, LF, a lone CR, a blank line. */
const TRICKY = '\uFEFFsku,name,qty\r\nA-1,"Shoe, trail ""42""",3\r\n\r\nB-2,"two\r\nlines",4\nC-3,,\rD-4,"",7';

const TRICKY_RECORDS: CsvRecord[] = [
  { line: 1, fields: ['sku', 'name', 'qty'] },
  { line: 2, fields: ['A-1', 'Shoe, trail "42"', '3'] },
  { line: 4, fields: ['B-2', 'two\r\nlines', '4'] },
  { line: 6, fields: ['C-3', '', ''] },
  { line: 7, fields: ['D-4', '', '7'] },
];

function readInPieces(text: string, cuts: number[]): CsvRecord[] {
  const reader = new CsvReader();
  const records: CsvRecord[] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    records.push(...reader.write(text.slice(from, cut)));
    from = cut;
  }
  return [...records, ...reader.end()];
}

describe('CSV reader (RFC 4180)', () => {
  it('reads quoted commas, doubled quotes, line breaks in fields, CRLF/LF/CR endings and a BOM, numbering lines', () => {
    const table = readCsv(TRICKY);
    assert.deepEqual(table.header, TRICKY_RECORDS[0].fields);
    assert.deepEqual(table.rows, TRICKY_RECORDS.slice(1));
  });

  it('gives the same records however the text is cut into pieces (a stream)', () => {
    for (let cut = 0; cut <= TRICKY.length; cut++) {
      assert.deepEqual(readInPieces(TRICKY, [cut]), TRICKY_RECORDS, `cut at ${cut}`);
    }
    const everyCharacter = Array.from({ length: TRICKY.length }, (_, i) => i);
    assert.deepEqual(readInPieces(TRICKY, everyCharacter), TRICKY_RECORDS);
  });

  it('keeps empty fields, a trailing empty field and a last line without a line break', () => {
    assert.deepEqual(readCsv('a,b,c\n,,\n1,2,').rows, [
      { line: 2, fields: ['', '', ''] },
      { line: 3, fields: ['1', '2', ''] },
    ]);
  });

  it('skips blank and whitespace-only lines but keeps a quoted empty field', () => {
    assert.deepEqual(readCsv('h\n\n   \n""\nx\n').rows, [
      { line: 4, fields: [''] },
      { line: 5, fields: ['x'] },
    ]);
  });

  it('reads an empty text as no header and no rows', () => {
    assert.deepEqual(readCsv(''), { header: [], rows: [] });
    assert.deepEqual(readCsv('\uFEFF'), { header: [], rows: [] });
  });

  it('refuses an unclosed quote, naming the line it opened on', () => {
    assert.throws(
      () => readCsv('sku,qty\nA,1\n"B,2\nC,3\n'),
      (error: unknown) => error instanceof CsvFormatError && error.line === 3 && /line 3: a quoted field opened on this line is never closed/.test(error.message),
    );
  });

  it('refuses text after a closing quote, naming the line', () => {
    assert.throws(() => readCsv('sku,qty\n"A"x,1\n'), /line 2: unexpected text after a closing quote: "x,1\\n"/);
  });

  it('selects columns by header name, whatever their case, order and spacing, and lists the missing ones', () => {
    const selected = selectColumns(readCsv(' QTY ,Sku\n3,A\n4\n'), ['sku', 'qty', 'location']);
    assert.deepEqual(selected.missing, ['location']);
    assert.deepEqual(selected.rows, [
      { line: 2, cells: { sku: 'A', qty: '3', location: undefined } },
      { line: 3, cells: { sku: undefined, qty: '4', location: undefined } },
    ]);
  });

  it('reads 100,000 lines with their numbers', () => {
    const text = `sku,quantity,sequence\n${Array.from({ length: 100_000 }, (_, i) => `"S-${i}",${i % 40},${i}`).join('\n')}\n`;
    const { rows } = readCsv(text);
    assert.equal(rows.length, 100_000);
    assert.deepEqual(rows[99_999], { line: 100_001, fields: ['S-99999', String(99_999 % 40), '99999'] });
  });
});

describe('the readers built on it', () => {
  it('a supplier feed: named columns in any order, an unclosed quote refuses the feed naming the line', () => {
    assert.deepEqual(parseCsvFeed('\uFEFFsequence,SKU,quantity\r\n7,"A,1",5\r\n').lines, [{ sku: 'A,1', quantity: '5', sequence: '7' }]);
    assert.throws(() => parseCsvFeed('sku,quantity,sequence\nA,1,1\n"B,2,2\n'), (error: unknown) => error instanceof FeedFormatError && /line 3/.test(error.message));
    assert.throws(() => parseCsvFeed(''), /the CSV feed is empty/);
  });

  it('a reconciliation snapshot: quoted fields, CRLF and a BOM read as they are meant, on-hand a number when whole', () => {
    assert.deepEqual(snapshotLinesFromCsv('\uFEFFsku,location,on_hand\r\n"REC-1", WH1 ,10\r\n"REC, 2",WH1,-3\r\nREC-3,WH1,1.5\r\n'), [
      { sku: 'REC-1', location: 'WH1', onHand: 10 },
      { sku: 'REC, 2', location: 'WH1', onHand: -3 },
      { sku: 'REC-3', location: 'WH1', onHand: '1.5' },
    ]);
    assert.throws(() => snapshotLinesFromCsv('sku,qty\nREC-1,4\n'), /line 1: the CSV header lacks location, on_hand/);
  });
});
