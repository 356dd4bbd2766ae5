import type { BufferRule, BufferRules } from '../schemas/channels';

/**
 * The figure a channel is offered for one SKU. Pure: the channel sync activity, the drift check,
 * the API and the tests all use it.
 *
 *   A         = available summed over the channel's locations (on hand − reserved − committed;
 *               a location whose count blocked the SKU contributes 0)
 *   raw       = floor(A × share) − safety            (share in basis points: integer arithmetic)
 *   published = max(0, min(A, max ?? ∞, max(min, raw)))
 *   published = 0 when the SKU is archived, or stopped by a count at any of the channel's locations
 *
 * `min` lifts a small raw figure (keep a slow seller visible) but never above what we have, and
 * nothing is ever offered that is not available. The rule used is the SKU's override, else its
 * first overridden tag (alphabetical), else the channel's, each override field falling back to
 * the channel's.
 */

export interface SkuAvailability {
  sku: string;
  tags: readonly string[];
  /** Sum of available over the channel's locations. */
  available: number;
  /** Stopped by a count (over 10% variance) at one of the channel's locations. */
  blocked: boolean;
  archived: boolean;
}

const BASIS = 10_000;

/** The rule that applies to one SKU: its own override, else its first overridden tag's, else the channel's. */
export function ruleFor(rules: BufferRules, sku: string, tags: readonly string[]): BufferRule {
  const base: BufferRule = { share: rules.share, safety: rules.safety, min: rules.min, max: rules.max };
  const tag = [...tags].sort().find((t) => rules.tags[t] !== undefined);
  const override = rules.skus[sku] ?? (tag === undefined ? undefined : rules.tags[tag]) ?? {};
  return { ...base, ...Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined)) };
}

/** The published figure of one SKU under one rule (formula above). */
export function figureUnder(rule: BufferRule, available: number): number {
  if (available <= 0) return 0;
  const raw = Math.floor((available * rule.share) / BASIS) - rule.safety;
  const ceiling = Math.min(available, rule.max ?? Number.POSITIVE_INFINITY);
  return Math.max(0, Math.min(ceiling, Math.max(rule.min, raw)));
}

/** The figure a channel publishes for a SKU. */
export function publishedFigure(rules: BufferRules, sku: SkuAvailability): number {
  if (sku.archived || sku.blocked) return 0;
  return figureUnder(ruleFor(rules, sku.sku, sku.tags), sku.available);
}

/** How long to wait before pushing again to a channel that failed `attempts` times in a row. */
export function retryDelayMs(attempts: number, baseMs = 500, capMs = 30_000): number {
  if (attempts <= 0) return 0;
  return Math.min(capMs, baseMs * 2 ** Math.min(attempts - 1, 16));
}

/** A SKU whose change has waited longer than the channel's window, for the one staleness exception. */
export interface StaleSku {
  sku: string;
  published: number | null;
  current: number;
  pendingSeconds: number;
}

/** The staleness exception's summary: how many SKUs, how long, how far off in total. */
export function describeStaleness(channelId: string, stale: readonly StaleSku[]): string {
  const worst = Math.max(...stale.map((s) => s.pendingSeconds));
  const off = stale.reduce((sum, s) => sum + Math.abs(s.current - (s.published ?? 0)), 0);
  const sample = stale
    .slice(0, 3)
    .map((s) => `${s.sku} shows ${s.published ?? 'nothing'}, should be ${s.current}`)
    .join('; ');
  const text = `channel ${channelId}: ${stale.length} SKU(s) unpublished for up to ${worst}s, ${off} unit(s) off in total (${sample}${stale.length > 3 ? '; …' : ''})`;
  // The exception summary's bound; the full list travels in the exception's context.
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
