import assert from 'node:assert/strict';
import { incomingChangeOf } from '../domain/balance';
import { describeCsvProblems, policiesFromCsv } from '../domain/reorder-policy-csv';
import { expectedAt, isFullyReceived, lateAt, receiptAllowance, receiveOnLine, remainingOf } from '../domain/purchase-orders';

const at = { sku: 'A1', location: 'WH1', actor: 'test', idempotencyKey: 'k' };

describe('purchase order rules (domain)', () => {
  it('expects the goods after the supplier lead time and calls them late after the grace', () => {
    const placed = new Date('2026-12-03T10:00:00Z');
    assert.equal(expectedAt(placed, 10).toISOString(), '2026-12-13T10:00:00.000Z');
    assert.equal(expectedAt(placed, 0).toISOString(), placed.toISOString());
    assert.equal(lateAt(new Date('2026-12-13T10:00:00Z'), 2 * 86_400).toISOString(), '2026-12-15T10:00:00.000Z');
  });

  it('leaves what is not yet received as the remainder, never less than nothing', () => {
    assert.equal(remainingOf({ quantity: 10, received: 4 }), 6);
    assert.equal(remainingOf({ quantity: 10, received: 11 }), 0);
    assert.equal(isFullyReceived([{ quantity: 10, received: 10 }, { quantity: 5, received: 6 }]), true);
    assert.equal(isFullyReceived([{ quantity: 10, received: 10 }, { quantity: 5, received: 4 }]), false);
  });

  it('allows an over-receipt up to the tolerance, in whole units', () => {
    assert.equal(receiptAllowance(10, 0.1), 11);
    assert.equal(receiptAllowance(100, 0.1), 110);
    assert.equal(receiptAllowance(9, 0.1), 9, '9.9 units is not a tenth unit');
    assert.equal(receiptAllowance(10, 0), 10);
  });

  it('takes from incoming only what of a line was still expected', () => {
    assert.deepEqual(receiveOnLine({ quantity: 10, received: 0 }, 4, 0.1), { quantity: 4, fromIncoming: 4, received: 4 });
    assert.deepEqual(receiveOnLine({ quantity: 10, received: 4 }, 7, 0.1), { quantity: 7, fromIncoming: 6, received: 11 });
    assert.deepEqual(receiveOnLine({ quantity: 10, received: 4 }, 8, 0.1), { over: { allowance: 11, total: 12 } });
  });

  it('moves incoming by purchase order operations, never below zero', () => {
    assert.deepEqual(incomingChangeOf({ kind: 'expect_incoming', ...at, quantity: 5 }, { incoming: 3 }), { incoming: 5 });
    assert.deepEqual(incomingChangeOf({ kind: 'receive_incoming', ...at, quantity: 7, expected: 6 }, { incoming: 20 }), { onHand: 7, incoming: -6 });
    assert.deepEqual(incomingChangeOf({ kind: 'receive_incoming', ...at, quantity: 7, expected: 6 }, { incoming: 2 }), { onHand: 7, incoming: -2 });
    assert.deepEqual(incomingChangeOf({ kind: 'cancel_incoming', ...at, quantity: 6 }, { incoming: 0 }), { incoming: 0 });
  });

  it('reads reorder policies from CSV, naming each bad cell by row and column', () => {
    const header = 'Kind,SKU,location,supplier_id,reorder_point,order_quantity,safety_days,target_days';
    assert.deepEqual(policiesFromCsv(`${header}\nstatic,A1,WH1,acme,4,10,,\ndynamic,A2,WH1,acme,,,2,14\n`), {
      policies: [
        { kind: 'static', sku: 'A1', location: 'WH1', supplierId: 'acme', reorderPoint: 4, orderQuantity: 10 },
        { kind: 'dynamic', sku: 'A2', location: 'WH1', supplierId: 'acme', safetyDays: 2, targetDays: 14 },
      ],
    });
    const bad = policiesFromCsv(`${header}\nstatic,A1,WH1,acme,x,10,,\nweekly,A2,WH1,acme,,,,\n`);
    assert.ok('problems' in bad);
    assert.equal(describeCsvProblems(bad.problems), 'row 1 (line 2), column reorder_point: must be a number of units; row 2 (line 3), column kind: kind must be static or dynamic');
    const twice = policiesFromCsv(`${header}\nstatic,A1,WH1,acme,1,10,,\nstatic,A1,WH1,acme,1,1,,\n`);
    assert.ok('problems' in twice);
    assert.equal(describeCsvProblems(twice.problems), 'row 2 (line 3), column sku: A1@WH1 already has a policy in row 1');
    const headless = policiesFromCsv('sku,location\nA1,WH1\n');
    assert.ok('problems' in headless);
    assert.match(describeCsvProblems(headless.problems), /^line 1, column kind, supplier_id: the header must name kind, sku, location, supplier_id/);
  });
});
