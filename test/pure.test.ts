import assert from 'node:assert/strict';
import { unstorableTextPath } from '../api/storable-text';
import { canonicalJson } from '../db/canonical';
import { isClosedSocketWriteDefect } from '../db/driver-defects';
import { parseCsvFeed } from '../domain/feed-parse';
import { looksBroken, planLines, type LastApplied, type SkuMapping } from '../domain/feed-rules';
import { DurationSeconds } from '../schemas/duration';

describe('pure rules', () => {
  it('hashes requests independent of key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } }), '{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
  });

  it('reads durations as seconds', () => {
    assert.deepEqual(['90s', '15m', '4h', '2d', 30].map((d) => DurationSeconds.parse(d)), [90, 900, 14400, 172800, 30]);
    assert.equal(DurationSeconds.safeParse('soon').success, false);
  });

  it('splits CSV feeds with quoted fields and refuses a missing header', () => {
    assert.deepEqual(parseCsvFeed('Quantity,SKU,sequence\r\n"1,5","A ""x""",3\n').lines, [{ sku: 'A "x"', quantity: '1,5', sequence: '3' }]);
    assert.throws(() => parseCsvFeed('a,b\n1,2'), /lacks column\(s\) sku, quantity, sequence/);
  });

  it('plans feed lines in order: stale, duplicate, spike, negative, unmapped', () => {
    const mappings = new Map<string, SkuMapping>([['S1', { variantId: 1, sku: 'V-1', unitFactor: 2, allowNegative: false }]]);
    const last = new Map<number, LastApplied>([[1, { sequence: 5, quantity: 10 }]]);
    const rules = { spikeAbsolute: 50, spikeRelative: 0.5 };
    const planned = planLines(
      [
        { lineNo: 1, raw: { sku: 'S1', quantity: 6, sequence: 4 } },
        { lineNo: 2, raw: { sku: 'S1', quantity: 6, sequence: 5 } },
        { lineNo: 3, raw: { sku: 'S1', quantity: 6, sequence: 6 } },
        { lineNo: 4, raw: { sku: 'S1', quantity: 100, sequence: 7 } },
        { lineNo: 5, raw: { sku: 'S1', quantity: -1, sequence: 8 } },
        { lineNo: 6, raw: { sku: 'S9', quantity: 1, sequence: 1 } },
        { lineNo: 7, raw: { sku: 'S1', quantity: 1.5, sequence: 9 } },
      ],
      mappings,
      last,
      rules,
    );
    assert.deepEqual(planned.map((p) => p.outcome), ['stale', 'duplicate', 'applied', 'held', 'held', 'unmapped', 'rejected']);
    assert.equal(planned[2].quantity, 12, 'unit factor applied');
    assert.equal(planned[3].rule, 'spike');
    assert.equal(planned[4].rule, 'negative');
    assert.deepEqual(last.get(1), { sequence: 6, quantity: 12 });
    assert.equal(looksBroken(planned, { quarantineShare: 0.2, quarantineMinLines: 3 }), true);
    assert.equal(looksBroken(planned, { quarantineShare: 0.5, quarantineMinLines: 3 }), false);
  });

  it('finds text Postgres cannot store, however deep', () => {
    assert.equal(unstorableTextPath({ a: [{ b: 'ok' }, { c: 'bad\u0000' }] }), 'a.1.c');
    assert.equal(unstorableTextPath({ ['key\uDC00']: 1 }), 'key\uDC00');
    assert.equal(unstorableTextPath({ emoji: '🧦', text: 'fine' }), undefined);
  });

  it('recognises only the postgres.js closed-socket defect as survivable', () => {
    const defect = new TypeError("Cannot read properties of null (reading 'write')");
    defect.stack = `TypeError: ${defect.message}\n    at Immediate.nextWrite (/app/node_modules/postgres/cjs/src/connection.js:255:22)`;
    assert.equal(isClosedSocketWriteDefect(defect), true);
    const elsewhere = new TypeError("Cannot read properties of null (reading 'write')");
    elsewhere.stack = `TypeError: ${elsewhere.message}\n    at ours (/app/api/server.ts:1:1)`;
    assert.equal(isClosedSocketWriteDefect(elsewhere), false);
    assert.equal(isClosedSocketWriteDefect(new Error('boom')), false);
  });
});
