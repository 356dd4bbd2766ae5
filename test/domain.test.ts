import assert from 'node:assert/strict';
import { exceptionSubjects, idempotencyKeys, scheduleIds, workflowIds } from '../domain/keys';
import { ownershipDomainOf } from '../domain/order-ownership';
import { DurationSeconds, MAX_DURATION_SECONDS } from '../schemas/duration';
import { OrderState } from '../schemas/orders';
import { SupplierId } from '../schemas/feeds';
import { Sku } from '../schemas/common';
import { SkuMap } from '../schemas/suppliers';
import { formatIssues } from '../schemas/issues';
import { decisionProblems } from '../domain/decision-shape';
import { allocate, mergeLines } from '../domain/allocation';
import { Decision } from '../schemas/exceptions';

describe('domain rules', () => {
  it('builds the ids and keys that running workflows and stored operations already carry', () => {
    // Changing one of these orphans in-flight runs and stored keys: a change here needs a migration plan.
    assert.equal(workflowIds.order('shop', '1001'), 'order/shop/1001');
    assert.equal(workflowIds.feed('acme', 'f-1'), 'feed/acme/f-1');
    assert.equal(workflowIds.exception('supplier_feed_line', 'acme/f-1/line-3'), 'exception/supplier_feed_line/acme/f-1/line-3');
    assert.equal(workflowIds.slaClock('exception/x/y'), 'exception/x/y/sla-clock');
    assert.equal(workflowIds.stockMovement('k-1'), 'movement/k-1');
    assert.equal(scheduleIds.dailyReconciliation('stockflow'), 'stockflow/daily-reconciliation');
    assert.equal(idempotencyKeys.orderLine('order/shop/1001', 'reserve', 2), 'order/shop/1001/reserve/2');
    assert.equal(idempotencyKeys.feedLine('acme', 'f-1', 7), 'feed/acme/f-1/7');
    assert.equal(idempotencyKeys.approvedFeedLine('acme', 'f-1', 7), 'feed/acme/f-1/7/approved');
    assert.equal(idempotencyKeys.reconciliationCorrection('run@1', 'SKU', 'WH1'), 'run@1/correct/SKU@WH1');
    assert.equal(exceptionSubjects.feedLine('acme', 'f-1', 7), 'acme/f-1/line-7');
    assert.equal(exceptionSubjects.orphanReservation('order/shop/9/reserve/1'), 'orphan:order/shop/9/reserve/1');
    assert.equal(exceptionSubjects.orphanReservationById(17), 'orphan:17');
    assert.equal(workflowIds.catalogueImport('shop-2026'), 'catalogue-import/shop-2026');
    assert.equal(idempotencyKeys.openingBalance('shop-2026', 12), 'catalogue-import/shop-2026/opening/12');
    assert.equal(exceptionSubjects.order('shop', '1001', 'handoff'), 'shop/1001/handoff');
    assert.equal(workflowIds.cart('c-9'), 'cart/c-9');
    assert.equal(idempotencyKeys.cartPart('c-9', 'reserve', 2), 'cart/c-9/reserve/2');
    assert.equal(idempotencyKeys.cartPart('c-9', 'expire', 1), 'cart/c-9/expire/1');
    assert.equal(exceptionSubjects.kpiAlert('backlog-ivy'), 'kpi:backlog-ivy');
    assert.equal(exceptionSubjects.kpiAlert('feeds-failing', 'supplier:acme'), 'kpi:feeds-failing/supplier:acme');
    assert.equal(scheduleIds.kpiAlerts('stockflow'), 'stockflow/kpi-alerts');
    assert.equal(scheduleIds.ownerDigest('stockflow'), 'stockflow/owner-digest');
    assert.equal(idempotencyKeys.ownerDigest('ivy', '2026-03-01'), 'digest/ivy/2026-03-01');
    assert.equal(workflowIds.channelSync('shop-eu'), 'channel/shop-eu/sync');
    assert.equal(scheduleIds.channelDrift('stockflow'), 'stockflow/channel-drift');
    assert.equal(scheduleIds.replenishment('stockflow'), 'stockflow/replenishment');
    assert.equal(workflowIds.replenishment('2026-03-01'), 'replenishment/2026-03-01');
    assert.equal(idempotencyKeys.replenishmentRun('2026-03-01'), 'replenishment/2026-03-01');
    assert.equal(exceptionSubjects.purchaseSuggestion('replenishment/2026-03-01', 'acme'), 'replenishment/2026-03-01/acme');
    assert.equal(exceptionSubjects.channelStale('shop-eu'), 'channel:shop-eu/stale');
    assert.equal(exceptionSubjects.channelDrift('shop-eu', 'TEE-M'), 'channel:shop-eu/drift:TEE-M');
    assert.equal(exceptionSubjects.channelMoved('shop-eu', 'TEE-M'), 'channel:shop-eu/moved:TEE-M');
    assert.equal(idempotencyKeys.channelPush('shop-eu', 'ab12'), 'channel/shop-eu/push/ab12');
  });

  it('gives every order state to intake until payment and to fulfilment from then on', () => {
    const byDomain = (domain: string) => OrderState.options.filter((state) => ownershipDomainOf(state) === domain);
    assert.deepEqual(byDomain('order_intake'), ['received', 'validated', 'reserved', 'rejected', 'cancelled', 'expired']);
    assert.deepEqual(byDomain('order_fulfilment'), ['paid', 'fulfilment_requested', 'accepted', 'shipped', 'closed', 'failed']);
  });

  it('refuses placeholder ids a client sends when it had none', () => {
    for (const placeholder of ['null', 'undefined', 'NaN', 'Undefined']) {
      const parsed = SupplierId.safeParse(placeholder);
      assert.equal(parsed.success, false, placeholder);
      assert.match(formatIssues(parsed.error!), /must be a real id, not a placeholder/);
      assert.equal(Sku.safeParse(placeholder).success, false, placeholder);
    }
    assert.equal(SupplierId.safeParse('nullable-co').success, true);
  });

  it('names the entry that maps a supplier SKU a second time', () => {
    const parsed = SkuMap.safeParse({ entries: [{ supplierSku: 'A', sku: 'S-1' }, { supplierSku: 'B', sku: 'S-2' }, { supplierSku: 'A', sku: 'S-3' }] });
    assert.equal(parsed.success, false);
    assert.equal(formatIssues(parsed.error!), 'entries.2.supplierSku: "A" is already mapped by entries.0');
    const huge = SkuMap.safeParse({ entries: [{ supplierSku: 'A', sku: 'S-1', unitFactor: 3_000_000_000 }] });
    assert.equal(formatIssues(huge.error!), 'entries.0.unitFactor: must be at most 1,000,000 base units per supplier unit');
  });

  it('bounds durations at 90 days, in seconds and in text', () => {
    assert.equal(DurationSeconds.parse('90d'), MAX_DURATION_SECONDS);
    for (const tooLong of ['91d', MAX_DURATION_SECONDS + 1, 2 ** 31, '99999999999d']) {
      const parsed = DurationSeconds.safeParse(tooLong);
      assert.equal(parsed.success, false, String(tooLong));
    }
    assert.match(formatIssues(DurationSeconds.safeParse(2 ** 31).error!), /must be at most 90 days \(7,776,000 seconds\)/);
  });

  it('checks a decision by hand exactly as the Decision schema does (the workflow bundle carries no zod)', () => {
    const long = (n: number) => 'x'.repeat(n);
    const samples: unknown[] = [
      { action: 'acknowledge', by: 'ana' },
      { action: 'acknowledge', by: 'ana', reason: '  ' },
      { action: 'approve', by: 'ana', reason: 'ok', evidence: 'photo' },
      { action: 'approve', by: 'ana', reason: 'ok', evidence: ' ' },
      { action: 'approve', by: 'ana' },
      { action: 'reject', by: ' Ana ', reason: 'no' },
      { action: 'reject', by: 'null', reason: 'no' },
      { action: 'reject', by: long(65), reason: 'no' },
      { action: 'comment', by: 'ana', reason: long(1001) },
      { action: 'reassign', by: 'ana', reason: 'away', to: 'bo' },
      { action: 'reassign', by: 'ana', reason: 'away' },
      { action: 'reassign', by: 'ana', reason: 'away', to: 7 },
      { action: 'escalate', by: 'ana', reason: 'x' },
      { by: 'ana' },
      'approve',
      null,
    ];
    for (const sample of samples) {
      assert.equal(decisionProblems(sample).length === 0, Decision.safeParse(sample).success, JSON.stringify(sample));
    }
    assert.deepEqual(decisionProblems({ action: 'reassign', by: 'ana', reason: ' ' }), ['reason: must say why', 'to: must be a string']);
  });

  it('allocates by most available, or by priority, and splits only when allowed', () => {
    const stock = [
      { sku: 'A', location: 'EAST', available: 3, allowNegative: false },
      { sku: 'A', location: 'WEST', available: 5, allowNegative: false },
      { sku: 'A', location: 'NORTH', available: 0, allowNegative: false },
    ];
    const rules = { strategy: 'most_available' as const, locationPriority: ['EAST'], splitChannels: [], backorderLeadSeconds: 1 };
    const wants = mergeLines([{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 1 }]);
    assert.deepEqual(wants, [{ sku: 'A', quantity: 2, lineNos: [1, 2] }]);
    assert.deepEqual(allocate(wants, stock, rules, false), { parts: [{ sku: 'A', quantity: 2, lineNos: [1, 2], location: 'WEST' }] });
    assert.deepEqual(allocate(wants, stock, { ...rules, strategy: 'priority' }, false), { parts: [{ sku: 'A', quantity: 2, lineNos: [1, 2], location: 'EAST' }] });
    const eight = [{ sku: 'A', quantity: 8, lineNos: [1] }];
    assert.ok('shortfall' in allocate(eight, stock, rules, false));
    assert.deepEqual(allocate(eight, stock, rules, true), {
      parts: [
        { sku: 'A', quantity: 5, lineNos: [1], location: 'WEST' },
        { sku: 'A', quantity: 3, lineNos: [1], location: 'EAST' },
      ],
    });
    assert.deepEqual(allocate([{ sku: 'A', quantity: 9, lineNos: [1] }], stock, rules, true), {
      shortfall: 'out_of_stock: only 8 of A available across all locations, 9 requested',
    });
  });
});
