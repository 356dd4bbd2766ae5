import assert from 'node:assert/strict';
import { assess, dailyDeviation, groupBySupplier, normalQuantile, orderQuantity, reorderPoint, roundToTerms, safetyStock, velocity } from '../domain/replenishment';

// Worked by hand: 42 units shipped or issued in 28 days is 1.5 a day; a 10-day lead time with
// 4 days of safety reorders at 1.5 × 14 = 21; 30 days of cover is 45 units.
const terms = { leadTimeDays: 10, packSize: 12, moq: 24 };
const dynamic = { kind: 'dynamic', safetyDays: 4, targetDays: 30 } as const;

describe('replenishment rules (domain)', () => {
  it('measures velocity as units issued per day over the window', () => {
    assert.equal(velocity(42, 28), 1.5);
    assert.equal(velocity(0, 28), 0);
    assert.equal(velocity(-3, 28), 0, 'net returns over the window are no demand, not negative demand');
    assert.throws(() => velocity(10, 0), /windowDays must be positive/);
  });

  it('puts the reorder point at the demand over lead time plus the safety stock', () => {
    assert.equal(reorderPoint(1.5, 10, safetyStock({ safetyDays: 4 }, 1.5, 0, 10)), 21);
    assert.equal(reorderPoint(0.25, 7, safetyStock({ safetyDays: 0 }, 0.25, 0, 7)), 1.75);
    assert.equal(reorderPoint(0, 10, safetyStock({ safetyDays: 4 }, 0, 0, 10)), 0);
  });

  it('adds safety stock from how much daily demand varies, at the asked service level', () => {
    // Four days of 0, 2, 4, 2 units: mean 2, Σx² 24, variance 24/4 − 4 = 2, σ = √2.
    assert.equal(dailyDeviation(8, 24, 4), Math.SQRT2);
    assert.equal(dailyDeviation(12, 36, 4), 0, 'the same demand every day does not vary');
    assert.throws(() => dailyDeviation(1, 1, 0), /days must be positive/);
    assert.ok(Math.abs(normalQuantile(0.95) - 1.6449) < 1e-4);
    assert.ok(Math.abs(normalQuantile(0.99) - 2.3263) < 1e-4);
    assert.ok(Math.abs(normalQuantile(0.5)) < 1e-9);
    assert.ok(Math.abs(normalQuantile(0.001) + 3.0902) < 1e-4, 'the lower tail');
    assert.throws(() => normalQuantile(1), /between 0 and 1/);
    // σ 2 units/day over a 9-day lead time at 95 %: 1.645 × 2 × 3 = 9.87 units, on top of 1 day of 1.5/day.
    assert.ok(Math.abs(safetyStock({ safetyDays: 1, serviceLevel: 0.95 }, 1.5, 2, 9) - (1.5 + 1.6449 * 2 * 3)) < 1e-3);
    assert.equal(safetyStock({ safetyDays: 1 }, 1.5, 2, 9), 1.5, 'no service level: days of cover only');

    const withVariability = assess({ ...dynamic, safetyDays: 0, serviceLevel: 0.95 }, { issued: 42, windowDays: 28, available: 40, incoming: 0, dailyDeviation: 4 }, terms);
    // 1.5 × 10 + 1.645 × 4 × √10 = 15 + 20.81 = 35.81 ≥ 40? No: 40 is above it, not low.
    assert.equal(withVariability, null);
    const low = assess({ ...dynamic, safetyDays: 0, serviceLevel: 0.95 }, { issued: 42, windowDays: 28, available: 35, incoming: 0, dailyDeviation: 4 }, terms);
    assert.ok(low && Math.abs(low.reorderPoint - 35.81) < 0.01, `${low?.reorderPoint}`);
    assert.match(low?.reason ?? '', /z\(0\.95\) 1\.64 × σ 4\/day × √10/);
  });

  it('rounds up to whole packs, at least the MOQ, and orders nothing when nothing is needed', () => {
    assert.equal(roundToTerms(30, { packSize: 12, moq: 24 }), 36, '30 units is 2.5 cases: 3 cases');
    assert.equal(roundToTerms(10, { packSize: 12, moq: 24 }), 24, 'the MOQ lifts 10 to 24, two whole cases');
    assert.equal(roundToTerms(3, { packSize: 4, moq: 10 }), 12, 'an MOQ of 10 in cases of 4 is 3 cases');
    assert.equal(roundToTerms(10.2, { packSize: 1, moq: 0 }), 11, 'a part unit is a whole unit');
    assert.equal(roundToTerms(0, { packSize: 12, moq: 24 }), 0);
    assert.equal(roundToTerms(-5, { packSize: 12, moq: 24 }), 0);
    assert.throws(() => roundToTerms(5, { packSize: 0, moq: 0 }), /packSize must be at least 1/);
  });

  it('orders up to the target cover net of available and incoming', () => {
    // 45 units of cover − (10 available + 5 incoming) = 30 → 3 cases of 12.
    assert.equal(orderQuantity(1.5, 30, { available: 10, incoming: 5 }, terms), 36);
    assert.equal(orderQuantity(1.5, 30, { available: 40, incoming: 5 }, terms), 0, 'already 45 in position');
  });

  it('reports a SKU low at or below its reorder point, with the quantity and the reason', () => {
    const line = assess(dynamic, { issued: 42, windowDays: 28, available: 16, incoming: 5 }, terms);
    // Position 21 = reorder point 21: low. 45 − 21 = 24, the MOQ, two whole cases.
    assert.deepEqual(
      { velocity: line?.velocity, reorderPoint: line?.reorderPoint, quantity: line?.quantity },
      { velocity: 1.5, reorderPoint: 21, quantity: 24 },
    );
    assert.match(line!.reason, /available 16 \+ incoming 5 = 21 ≤ reorder point 21 = 1\.5\/day × \(lead 10 \+ safety 4\) days/);
    assert.equal(assess(dynamic, { issued: 42, windowDays: 28, available: 17, incoming: 5 }, terms), null, 'one unit above the point');
    assert.equal(assess(dynamic, { issued: 0, windowDays: 28, available: 0, incoming: 0 }, terms), null, 'no demand, nothing to order');
  });

  it('lets a static policy override demand, still in whole packs and at least the MOQ', () => {
    const fixed = { kind: 'static', reorderPoint: 120, orderQuantity: 50 } as const;
    const line = assess(fixed, { issued: 42, windowDays: 28, available: 100, incoming: 0 }, terms);
    assert.equal(line?.quantity, 60, '50 units is 4.17 cases: 5 cases');
    assert.equal(line?.reorderPoint, 120);
    assert.match(line!.reason, /static reorder point 120; static quantity 50 → 60/);
    assert.equal(assess(fixed, { issued: 280, windowDays: 28, available: 121, incoming: 0 }, terms), null, 'high demand does not move a static point');
  });

  it('groups low lines into one suggestion per supplier, valued at supplier cost', () => {
    const groups = groupBySupplier([
      { supplierId: 'bolt', sku: 'B', quantity: 10, unitCost: 1.2 },
      { supplierId: 'acme', sku: 'A1', quantity: 24, unitCost: 2.5 },
      { supplierId: 'acme', sku: 'A2', quantity: 36, unitCost: 0.1 },
    ]);
    assert.deepEqual(
      groups.map((g) => ({ supplierId: g.supplierId, skus: g.lines.map((l) => l.sku), value: g.value })),
      [
        { supplierId: 'acme', skus: ['A1', 'A2'], value: 63.6 },
        { supplierId: 'bolt', skus: ['B'], value: 12 },
      ],
    );
  });
});
