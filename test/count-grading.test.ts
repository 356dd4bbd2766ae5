import assert from 'node:assert/strict';
import { countOutcome, gradeCount, statusAfterCount, variancePercent } from '../domain/count-grading';

describe('count grading (domain)', () => {
  it('measures cycle-count variance against the expected figure and grades it', () => {
    assert.equal(variancePercent(100, 97), 3);
    assert.equal(variancePercent(0, 0), 0);
    assert.equal(variancePercent(0, 4), 100);
    assert.equal(variancePercent(-3, 2), 100, 'anything counted where the ledger expected less than nothing is 100%');
    assert.equal(variancePercent(3, 1), 66.67, 'rounded to two decimals');
    assert.deepEqual([5, 5.01, 10, 10.01].map(countOutcome), ['ok', 'investigate', 'investigate', 'blocked']);
  });

  it('grades a count as its variance, its share and what it means for selling', () => {
    assert.deepEqual(gradeCount(50, 38), { variance: -12, variancePct: 24, outcome: 'blocked' });
    assert.deepEqual(gradeCount(100, 106), { variance: 6, variancePct: 6, outcome: 'investigate' });
    assert.deepEqual(gradeCount(40, 40), { variance: 0, variancePct: 0, outcome: 'ok' });
    assert.deepEqual(gradeCount(1, 1_000_000_000), { variance: 999_999_999, variancePct: 99_999_999_900, outcome: 'blocked' });
  });

  it('keeps the graver status: a clean recount does not lift a flag, a worse one raises it', () => {
    const statuses = ['ok', 'investigate', 'blocked'] as const;
    const after = statuses.map((current) => statuses.map((outcome) => statusAfterCount(current, outcome)));
    assert.deepEqual(after, [
      ['ok', 'investigate', 'blocked'],
      ['investigate', 'investigate', 'blocked'],
      ['blocked', 'blocked', 'blocked'],
    ]);
  });
});
