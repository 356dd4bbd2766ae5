import assert from 'node:assert/strict';
import { failedRate, series, share, splitWindow, trendOf, turns, unitsBySku, valueAtPrice, windowDays } from '../domain/kpis';

describe('KPI formulas (domain)', () => {
  it('values units at price only when there is a price book, counting an unpriced SKU as 0', () => {
    const units = [
      { sku: 'A', units: 3 },
      { sku: 'B', units: 2 },
    ];
    assert.equal(valueAtPrice(units, undefined), null);
    assert.equal(valueAtPrice(units, new Map([['A', 2.5]])), 7.5);
    assert.equal(valueAtPrice(units, new Map([['A', 2.5], ['B', 10]])), 27.5);
  });

  it('divides only what was measured', () => {
    assert.deepEqual(share(1, 4), { numerator: 1, denominator: 4, share: 0.25 });
    assert.deepEqual(share(0, 0), { numerator: 0, denominator: 0, share: null });
    assert.equal(failedRate({ received: 10, refused: 1, rejected: 2, held: 1 }), 0.4);
    assert.equal(failedRate({ received: 0, refused: 0, rejected: 0, held: 0 }), null);
    assert.equal(turns(30, 10, 20), 2);
    assert.equal(turns(30, 0, 0), null);
  });

  it('splits a window into the whole days a rollup holds and the ragged rest read from the ledger', () => {
    const at = (iso: string) => new Date(iso);
    const from = at('2026-11-20T15:30:00Z');
    const to = at('2026-12-03T10:00:00Z');
    assert.deepEqual(splitWindow(from, to, null), { live: [{ from, to }] }, 'nothing rolled up');
    assert.deepEqual(splitWindow(from, to, '2026-11-20'), { live: [{ from, to }] }, 'rolled up only before the first whole day');
    assert.deepEqual(splitWindow(from, to, '2026-12-01'), {
      days: { first: '2026-11-21', end: '2026-12-02' },
      live: [
        { from, to: at('2026-11-21T00:00:00Z') },
        { from: at('2026-12-02T00:00:00Z'), to },
      ],
    });
    assert.deepEqual(splitWindow(at('2026-11-21T00:00:00Z'), at('2026-11-25T00:00:00Z'), '2026-12-01'), {
      days: { first: '2026-11-21', end: '2026-11-25' },
      live: [],
    }, 'a window of whole rolled days reads no ledger');
  });

  it('lists every UTC day a window touches and fills days without rows with 0', () => {
    const days = windowDays(new Date('2026-03-01T22:00:00Z'), new Date('2026-03-04T01:00:00Z'));
    assert.deepEqual(days, ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04']);
    assert.deepEqual(series(days, { '2026-03-02': 4 }), [0, 4, 0, 0]);
  });

  it('builds the trend series: shrinkage from negative adjustments, count accuracy only on days with counts', () => {
    const days = ['2026-03-01', '2026-03-02'];
    const trend = trendOf(
      days,
      [
        { day: '2026-03-01', metric: 'adjustment', key: 'damaged', value: -3 },
        { day: '2026-03-01', metric: 'adjustment', key: 'found', value: 2 },
        { day: '2026-03-02', metric: 'adjustment', key: 'damaged', value: -1 },
        { day: '2026-03-02', metric: 'count', key: 'ok', value: 3 },
        { day: '2026-03-02', metric: 'count', key: 'blocked', value: 1 },
        { day: '2026-03-01', metric: 'feedLine', key: 'ok', value: 8 },
        { day: '2026-03-01', metric: 'feedLine', key: 'failed', value: 2 },
      ],
      { '2026-03-02': 5 },
    );
    assert.deepEqual(trend.shrinkageUnits, [3, 1]);
    assert.deepEqual(trend.adjustmentsByReason, { damaged: [-3, -1], found: [2, 0] });
    assert.deepEqual(trend.countsWithinTolerance, [null, 0.75]);
    assert.deepEqual(trend.feedLinesReceived, [10, 0]);
    assert.deepEqual(trend.feedLinesFailed, [2, 0]);
    assert.deepEqual(trend.stockouts, [0, 5]);
  });

  it('adds up one SKU held in several places, largest first', () => {
    assert.deepEqual(
      unitsBySku([
        { sku: 'B', units: 1 },
        { sku: 'A', units: 2 },
        { sku: 'B', units: 4 },
      ]),
      [
        { sku: 'B', units: 5 },
        { sku: 'A', units: 2 },
      ],
    );
  });
});
