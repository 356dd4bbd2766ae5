import assert from 'node:assert/strict';
import { checkImport, codeFromName, ImportFormatError, parseImport, recordsToApply, type KnownCatalogue } from '../domain/catalogue-import';

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

  it('matches inventory locations by name to existing ones and applies the same records on every worker', () => {
    const csv = ['SKU,Location,On hand (current),On hand (new)', 'A-1,Main Warehouse,4,', 'A-1,Pop-up,2,3', 'A-2,Pop-up,not stocked,'].join('\n');
    const parsed = parseImport('shopify-inventory', csv, 'USD');
    const known: KnownCatalogue = { ...nothingKnown(), skus: new Map([['A-1', { handle: 'a', allowNegative: false }]]), locations: new Map([['WH1', 'Main warehouse']]) };
    const checked = checkImport(parsed, known, new Map([['main warehouse', 'WH1']]));
    assert.deepEqual(checked.locationCodes, { 'MAIN-WAREHOUSE': 'WH1' });
    assert.deepEqual(
      [...checked.records].map((r) => (r.kind === 'balance' ? `${r.sku}@${r.location}=${r.onHand}` : `${r.kind}:${r.kind === 'location' ? r.code : ''}`)),
      ['location:POP-UP', 'A-1@WH1=4', 'A-1@POP-UP=3'],
    );
    assert.deepEqual([...recordsToApply(parsed, checked.excludedRows, checked.locationCodes)], [...checked.records]);
  });
});
