import assert from 'node:assert/strict';
import { describeStaleness, figureUnder, publishedFigure, retryDelayMs, ruleFor } from '../domain/channel-figure';
import { BufferRules, ChannelRegistration } from '../schemas/channels';

const sku = (available: number, extra: { sku?: string; tags?: string[]; blocked?: boolean; archived?: boolean } = {}) => ({
  sku: extra.sku ?? 'TEE-M',
  tags: extra.tags ?? [],
  available,
  blocked: extra.blocked ?? false,
  archived: extra.archived ?? false,
});

describe('channel figure (the buffer rule)', () => {
  it('offers floor(share × available) − safety', () => {
    const shopify = BufferRules.parse({ share: 0.9 });
    const amazon = BufferRules.parse({ share: 0.85, safety: 2 });
    const wholesale = BufferRules.parse({ share: 0.7 });
    assert.equal(publishedFigure(shopify, sku(100)), 90);
    assert.equal(publishedFigure(shopify, sku(7)), 6, 'floor(6.3)');
    assert.equal(publishedFigure(amazon, sku(100)), 83, 'floor(85) − 2');
    assert.equal(publishedFigure(wholesale, sku(10)), 7, 'no floating-point 6.999…');
    assert.equal(publishedFigure(BufferRules.parse({ share: 0.29 }), sku(100)), 29, '0.29 × 100 is 28.999… in floating point');
  });

  it('offers all of available when the channel names no share', () => {
    assert.equal(publishedFigure(BufferRules.parse({}), sku(37)), 37);
    assert.equal(publishedFigure(BufferRules.parse({ safety: 2 }), sku(37)), 35);
  });

  it('clamps to min and max, never above what is available, never below 0', () => {
    const rule = BufferRules.parse({ share: 0.5, safety: 3, min: 2, max: 40 });
    assert.equal(publishedFigure(rule, sku(1000)), 40, 'max');
    assert.equal(publishedFigure(rule, sku(6)), 2, 'raw 0 lifted to min 2');
    assert.equal(publishedFigure(rule, sku(1)), 1, 'min never offers more than there is');
    assert.equal(publishedFigure(rule, sku(0)), 0);
    assert.equal(publishedFigure(rule, sku(-5)), 0, 'negative available (backorderable) offers nothing');
    assert.equal(figureUnder({ share: 10_000, safety: 10, min: 0, max: null }, 4), 0, 'safety above stock');
  });

  it('publishes 0 for a SKU stopped by a count or archived, whatever the rule', () => {
    const rule = BufferRules.parse({ share: 1, min: 5 });
    assert.equal(publishedFigure(rule, sku(50, { blocked: true })), 0);
    assert.equal(publishedFigure(rule, sku(50, { archived: true })), 0);
  });

  it('takes a SKU override over a tag override over the channel rule, field by field', () => {
    const rules = BufferRules.parse({
      share: 0.9,
      safety: 1,
      tags: { clearance: { share: 1, safety: 0 }, bulky: { max: 5 } },
      skus: { 'TEE-L': { share: 0.5 } },
    });
    assert.deepEqual(ruleFor(rules, 'TEE-M', []), { share: 9000, safety: 1, min: 0, max: null });
    assert.deepEqual(ruleFor(rules, 'TEE-M', ['clearance']), { share: 10_000, safety: 0, min: 0, max: null });
    assert.deepEqual(ruleFor(rules, 'TEE-M', ['clearance', 'bulky']), { share: 9000, safety: 1, min: 0, max: 5 }, 'first tag alphabetically: bulky');
    assert.deepEqual(ruleFor(rules, 'TEE-L', ['clearance']), { share: 5000, safety: 1, min: 0, max: null }, 'the SKU override wins and keeps the channel safety');
    assert.equal(publishedFigure(rules, sku(100, { sku: 'TEE-L', tags: ['clearance'] })), 49);
    assert.equal(publishedFigure(rules, sku(100, { tags: ['clearance'] })), 100);
  });

  it('refuses rules that cannot hold: share outside 0..1, more than 4 decimals, max below min', () => {
    assert.equal(BufferRules.safeParse({ share: 1.2 }).success, false);
    assert.equal(BufferRules.safeParse({ share: 0.12345 }).success, false);
    assert.equal(BufferRules.safeParse({ share: 0.1234 }).success, true);
    assert.equal(BufferRules.safeParse({ min: 10, max: 5 }).success, false);
    assert.equal(BufferRules.safeParse({ safety: -1 }).success, false);
  });

  it('takes a secret reference, never a secret, and each SKU mapped once', () => {
    const base = { id: 'shop', kind: 'webhook', name: 'Shop', locations: ['WH1'], settings: { url: 'http://127.0.0.1:1/hook' } };
    assert.equal(ChannelRegistration.safeParse({ ...base, secretRef: 'env:SHOP_HOOK_SECRET' }).success, true);
    assert.equal(ChannelRegistration.safeParse({ ...base, secretRef: 'file:/etc/stockflow/secrets.json#shop' }).success, true);
    assert.equal(ChannelRegistration.safeParse({ ...base, secretRef: 'shpat_0123456789abcdef' }).success, false);
    const twice = ChannelRegistration.safeParse({ ...base, secretRef: 'env:X', skus: [{ sku: 'A', externalId: '1' }, { sku: 'A', externalId: '2' }] });
    assert.equal(twice.success, false);
  });

  it('backs off exponentially up to a cap, and sums a staleness up in one bounded line', () => {
    assert.deepEqual([0, 1, 2, 3, 10, 100].map((n) => retryDelayMs(n)), [0, 500, 1000, 2000, 30_000, 30_000]);
    const stale = Array.from({ length: 40 }, (_, i) => ({ sku: `SKU-${i}`, published: 10, current: 4, pendingSeconds: 30 + i }));
    const text = describeStaleness('shop', stale);
    assert.match(text, /^channel shop: 40 SKU\(s\) unpublished for up to 69s, 240 unit\(s\) off in total \(SKU-0 shows 10, should be 4/);
    assert.ok(text.length <= 300);
  });
});
