import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyChunks, checkImport, codeFromName, ImportFormatError, ImportReader, noFindings, parseImport, recordsToApply, type KnownCatalogue } from '../domain/catalogue-import';
import type { ImportRecord } from '../schemas/catalogue';

const fixture = (name: string) => readFileSync(path.join(__dirname, 'fixtures', 'catalogue', name), 'utf8');

/** Every kind of record, out of the order they are applied in, one balance refused (row 5). */
const STOCKFLOW_CSV = [
  'record,code,name,location_kind,handle,title,sku,supplier,location,on_hand,cost',
  'balance,,,,,,B-1,,WH1,1,',
  'supplier_variant,,,,,,B-1,sup,,,2',
  'variant,,,,b,B,B-1,,,,',
  'balance,,,,,,B-2,,WH1,-1,',
  'location,WH1,Entrepôt Lyon,warehouse,,,,,,,',
  'variant,,,,b,B,B-2,,,,',
  'supplier,,Supplies,,,,,sup,WH1,,',
  'balance,,,,,,B-2,,WH2,4,',
  'location,WH2,Second,store,,,,,,,',
  'balance,,,,,,B-1,,WH2,5,',
  'variant,,,,c,倉庫の帽子,C-1,,,,',
].join('\n');

const STOCKFLOW_JSON = JSON.stringify({
  locations: [{ code: 'WH1', name: 'Entrepôt' }],
  items: [{ handle: 'a', name: 'A', variants: [{ sku: 'A-1', price: 5 }, { sku: 'A 2' }] }],
  suppliers: [{ id: 'sup', name: 'S', location: 'WH1', variants: [{ sku: 'A-1', cost: 2 }] }],
  balances: [{ sku: 'A-1', location: 'WH1', onHand: 3 }],
});

const nothingKnown = (): KnownCatalogue => ({ skus: new Map(), locations: new Map(), suppliers: new Set() });

describe('catalogue import rules (pure)', () => {
  it('makes location codes the API accepts from Shopify location names', () => {
    assert.equal(codeFromName('Shop location #2'), 'SHOP-LOCATION-2');
    assert.equal(codeFromName('  Entrepôt Lyon  '), 'ENTREPOT-LYON');
    assert.equal(codeFromName('倉庫'), 'LOCATION');
    assert.equal(codeFromName('x'.repeat(40)).length, 32);
  });

  it('names the JSON path of every bad field and lists unknown keys', () => {
    const parsed = parseImport(
      'stockflow-json',
      JSON.stringify({
        items: [{ handle: 'a', name: 'A', colour: 'red', variants: [{ sku: 'A 1', price: -1 }] }, { handle: 'b', name: 'B', variants: [] }],
        balances: [{ sku: 'A-1', location: 'WH1', onHand: 1.5 }],
      }),
      'EUR',
    );
    assert.deepEqual(
      parsed.problems.map((p) => [p.column, p.reason]),
      [
        ['items.0.variants.0.sku', 'may contain only letters, digits, ".", "_", "-" and "/"'],
        ['items.0.variants.0.price', 'must not be negative'],
        ['items.1.variants', 'must list at least one variant: Stockflow keeps stock per SKU'],
        ['balances.0.onHand', 'must be a whole number'],
      ],
    );
    assert.deepEqual(parsed.ignoredColumns, ['items.colour']);
  });

  it('refuses a Shopify product row without a SKU and a product whose first row has no title', () => {
    const csv = ['Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price', 'tee,Tee,Size,S,,10', 'cap,,Title,Default Title,CAP-1,5'].join('\n');
    const parsed = parseImport('shopify-products', csv, 'USD');
    assert.deepEqual(
      parsed.problems.map((p) => [p.row, p.column]),
      [
        [3, 'Title'],
        [2, 'Variant SKU'],
      ],
    );
    assert.throws(() => parseImport('shopify-products', 'Title,Price\nTee,10', 'USD'), ImportFormatError);
    assert.throws(() => parseImport('stockflow-csv', 'record,sku\nbalance,"A-1', 'USD'), /not CSV: line 2/);
  });

  it('matches inventory locations by name to existing ones, moving their balances there', () => {
    const csv = ['SKU,Location,On hand (current),On hand (new)', 'A-1,Main Warehouse,4,', 'A-1,Pop-up,2,3', 'A-2,Pop-up,not stocked,'].join('\n');
    const parsed = parseImport('shopify-inventory', csv, 'USD');
    const known: KnownCatalogue = { ...nothingKnown(), skus: new Map([['A-1', { handle: 'a', allowNegative: false }]]), locations: new Map([['WH1', 'Main warehouse']]) };
    const checked = checkImport(parsed, known, new Map([['main warehouse', 'WH1']]));
    assert.deepEqual(checked.locationCodes, { 'MAIN-WAREHOUSE': 'WH1' });
    const chunks = [...applyChunks(recordsToApply(parsed.records, new Set(checked.excludedRows), checked.locationCodes), checked.toApply, 10)];
    assert.deepEqual(
      chunks.flatMap((c) => JSON.parse(c.records) as ImportRecord[]).map((r) => (r.kind === 'balance' ? `${r.sku}@${r.location}=${r.onHand}` : `${r.kind}:${r.kind === 'location' ? r.code : ''}`)),
      ['location:POP-UP', 'A-1@WH1=4', 'A-1@POP-UP=3'],
    );
  });

  it('reads a file cut into pieces anywhere as it reads it whole, in every format', () => {
    const files = [
      ['stockflow-csv', STOCKFLOW_CSV],
      ['stockflow-json', STOCKFLOW_JSON],
      ['shopify-products', fixture('shopify-products.csv')],
      ['shopify-inventory', fixture('shopify-inventory.csv')],
    ] as const;
    for (const [format, body] of files) {
      const whole = parseImport(format, body, 'EUR');
      for (const size of [1, 5, 64]) {
        const findings = noFindings();
        const reader = new ImportReader(format, 'EUR', findings);
        const records = [];
        for (let at = 0; at < body.length; at += size) records.push(...reader.write(body.slice(at, at + size)));
        records.push(...reader.end());
        assert.deepEqual({ ...findings, records }, whole, `${format} in pieces of ${size}`);
      }
    }
  });

  it('chunks the records that pass in the order they are applied, by kind then row, whatever order the file has them in', () => {
    const csv = STOCKFLOW_CSV;
    const parsed = parseImport('stockflow-csv', csv, 'EUR');
    const checked = checkImport(parsed, nothingKnown(), new Map());
    assert.deepEqual(checked.excludedRows, [5]);
    const rank = { location: 0, supplier: 1, variant: 2, supplier_variant: 3, balance: 4 };
    // What the records are once staged (as JSON: absent fields are left out).
    const expected = parsed.records.filter((r) => r.row !== 5).sort((a, b) => rank[a.kind] - rank[b.kind] || a.row - b.row);
    for (const size of [1, 2, 3, 4, 100]) {
      const chunks = [...applyChunks(recordsToApply(parsed.records, new Set(checked.excludedRows), checked.locationCodes), checked.toApply, size)].sort((a, b) => a.chunkNo - b.chunkNo);
      assert.deepEqual(
        chunks.map((c) => c.chunkNo),
        Array.from({ length: Math.ceil(expected.length / size) }, (_, n) => n),
      );
      assert.deepEqual(
        chunks.flatMap((c) => JSON.parse(c.records) as ImportRecord[]),
        JSON.parse(JSON.stringify(expected)),
      );
    }
    assert.throws(() => [...applyChunks(parsed.records, checked.toApply, 2)], /other records to apply than its check counted/);
  });
});
