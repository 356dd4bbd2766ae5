import assert from 'node:assert/strict';
import { heldRuleOf, planLines, type LastApplied, type SkuMapping } from '../domain/feed-rules';
import { DEFAULT_CONFIG, feedRulesOf } from '../schemas/config';

const RULES = { ...feedRulesOf(DEFAULT_CONFIG), spikeAbsolute: 50, spikeRelative: 0.5 };

describe('feed rules (domain)', () => {
  const mappings = new Map<string, SkuMapping>([
    ['CASE', { variantId: 1, sku: 'V-1', unitFactor: 12, allowNegative: true }],
    ['PALLET', { variantId: 2, sku: 'V-2', unitFactor: 2_000_000_000, allowNegative: false }],
  ]);

  it('rejects a line whose quantity times the unit factor is beyond what one line may set, naming the figures', () => {
    const last = new Map<number, LastApplied>([[1, { sequence: 1, quantity: 120 }]]);
    const planned = planLines(
      [
        { lineNo: 1, raw: { sku: 'CASE', quantity: 83_333_334, sequence: 2 } },
        { lineNo: 2, raw: { sku: 'CASE', quantity: 83_333_333, sequence: 3 } },
        { lineNo: 3, raw: { sku: 'PALLET', quantity: 1_000_000_000, sequence: 1 } },
        { lineNo: 4, raw: { sku: 'CASE', quantity: -83_333_334, sequence: 4 } },
      ],
      mappings,
      last,
      RULES,
      true,
    );
    assert.deepEqual(planned.map((p) => p.outcome), ['rejected', 'applied', 'rejected', 'rejected']);
    assert.equal(planned[0].reason, 'quantity 83,333,334 × unit factor 12 = 1,000,000,008 base units, beyond ±1,000,000,000, the most one line may set');
    assert.equal(planned[0].quantity, undefined, 'a figure that does not fit is not carried as a quantity');
    assert.equal(planned[0].sku, 'V-1');
    assert.equal(planned[1].quantity, 999_999_996);
    assert.match(planned[2].reason ?? '', /= 2,000,000,000,000,000,000 base units/);
    assert.match(planned[3].reason ?? '', /= -1,000,000,008 base units/);
    assert.deepEqual(last.get(1), { sequence: 3, quantity: 999_999_996 }, 'a rejected line moves no sequence forward');
  });

  it('recovers the rule of a held line from its quantity, as the plan held it', () => {
    const last = new Map<number, LastApplied>([[1, { sequence: 1, quantity: 120 }]]);
    const planned = planLines(
      [
        { lineNo: 1, raw: { sku: 'CASE', quantity: -1, sequence: 2 } },
        { lineNo: 2, raw: { sku: 'CASE', quantity: 100, sequence: 3 } },
      ],
      mappings,
      last,
      RULES,
    );
    assert.deepEqual(planned.map((p) => [p.outcome, p.rule]), [
      ['held', 'negative'],
      ['held', 'spike'],
    ]);
    assert.deepEqual(planned.map((p) => heldRuleOf(p.quantity as number)), ['negative', 'spike']);
  });
});
