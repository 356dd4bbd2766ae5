import assert from 'node:assert/strict';
import { coveringOrder } from '../domain/backorders';

describe('backorder dates (domain)', () => {
  const supply = [
    { poNumber: 'PO-LATE', expectedAt: '2026-12-20T00:00:00.000Z', outstanding: 10 },
    { poNumber: 'PO-SOON', expectedAt: '2026-12-08T00:00:00.000Z', outstanding: 3 },
  ];

  it('dates a shortfall by the earliest order whose arrival, with those before it, covers it', () => {
    assert.equal(coveringOrder(2, supply)?.poNumber, 'PO-SOON');
    assert.equal(coveringOrder(3, supply)?.poNumber, 'PO-SOON');
    assert.equal(coveringOrder(4, supply)?.poNumber, 'PO-LATE', 'the backorders ahead take the first order');
    assert.equal(coveringOrder(13, supply)?.poNumber, 'PO-LATE');
  });

  it('gives no order when the open orders do not cover the shortfall', () => {
    assert.equal(coveringOrder(14, supply), undefined);
    assert.equal(coveringOrder(1, []), undefined);
  });
});
