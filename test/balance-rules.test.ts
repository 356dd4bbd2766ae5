import assert from 'node:assert/strict';
import { availableOf, BALANCE_MAX, deltasOf, describeBreach, movementReason, rangeBreach, type Buckets } from '../domain/balance';

const holding = (b: Partial<Buckets>): Buckets => ({ onHand: 0, reserved: 0, committed: 0, incoming: 0, countStatus: 'ok', ...b });
const at = { idempotencyKey: 'k', actor: 'test', sku: 'S', location: 'L' };

describe('balance rules (domain)', () => {
  it('derives available as the database does: nothing while a count blocks the SKU', () => {
    assert.equal(availableOf(holding({ onHand: 10, reserved: 3, committed: 2 })), 5);
    assert.equal(availableOf(holding({ onHand: 10, reserved: 3, countStatus: 'blocked' })), 0);
  });

  it('works out what an operation does to a balance: moving kinds add, setting kinds take the difference', () => {
    const current = holding({ onHand: 40, incoming: 12 });
    assert.deepEqual(deltasOf({ kind: 'receive', ...at, quantity: 5 }, current), { onHand: 5 });
    assert.deepEqual(deltasOf({ kind: 'issue', ...at, quantity: 5 }, current), { onHand: -5 });
    assert.deepEqual(deltasOf({ kind: 'reserve', ...at, quantity: 2, ttlSeconds: 60 }, current), { reserved: 2 });
    assert.deepEqual(deltasOf({ kind: 'set_on_hand', ...at, quantity: 25 }, current), { onHand: -15 });
    assert.deepEqual(deltasOf({ kind: 'set_incoming', ...at, quantity: 30 }, current), { incoming: 18 });
    assert.deepEqual(deltasOf({ kind: 'cycle_count', ...at, counted: 38 }, current), { onHand: -2 });
  });

  it('names the reason code a movement carries', () => {
    assert.equal(movementReason({ kind: 'set_on_hand', ...at, quantity: 1 }), 'supplier_feed');
    assert.equal(movementReason({ kind: 'cycle_count', ...at, counted: 1 }), 'count_variance');
    assert.equal(movementReason({ kind: 'adjust', ...at, delta: -1, reasonCode: 'damaged' }), 'damaged');
    assert.equal(movementReason({ kind: 'receive', ...at, quantity: 1 }), undefined);
  });

  it('finds the figure a change would take beyond the range of a balance', () => {
    assert.equal(rangeBreach(holding({ onHand: 2_000_000_000 }), { onHand: 147_483_647 }), undefined, 'up to the maximum fits');
    assert.deepEqual(rangeBreach(holding({ onHand: 2_000_000_000 }), { onHand: 1_000_000_000 }), { bucket: 'onHand', change: false, value: 3_000_000_000 });
    assert.deepEqual(rangeBreach(holding({ onHand: -2_000_000_000 }), { onHand: 3_000_000_000 }), { bucket: 'onHand', change: true, value: 3_000_000_000 });
    assert.deepEqual(rangeBreach(holding({ onHand: -2_000_000_000, reserved: 100 }), { reserved: 200_000_000 }), {
      bucket: 'available',
      change: false,
      value: -2_200_000_100,
    });
    assert.deepEqual(rangeBreach(holding({ incoming: BALANCE_MAX }), { incoming: 1 }), { bucket: 'incoming', change: false, value: 2_147_483_648 });
  });

  it('says which figure of which balance would leave which limit', () => {
    assert.equal(
      describeBreach({ bucket: 'onHand', change: false, value: 3_000_000_000 }, 'W-1 at WH1'),
      'on hand of W-1 at WH1 would be 3,000,000,000, above 2,147,483,647, the most a stock balance can hold',
    );
    assert.equal(
      describeBreach({ bucket: 'available', change: false, value: -2_200_000_100 }, 'W-1 at WH1'),
      'available of W-1 at WH1 would be -2,200,000,100, below -2,147,483,648, the least a stock balance can hold',
    );
    assert.match(describeBreach({ bucket: 'onHand', change: true, value: 3_000_000_000 }, 'W-1 at WH1'), /change of on hand .* 3,000,000,000, more than one ledger movement can record/);
  });
});
