import { FeedLine, type FeedCounts, type FeedRules, type LineOutcome } from '../schemas/feeds';
import { formatIssues } from '../schemas/issues';
import { MOVEMENT_LIMIT } from './balance';

export interface SkuMapping {
  variantId: number;
  sku: string;
  unitFactor: number;
  allowNegative: boolean;
}

/** What was last applied for one variant from this supplier. */
export interface LastApplied {
  sequence: number;
  quantity: number;
}

export interface PlannedLine {
  lineNo: number;
  outcome: LineOutcome;
  reason?: string;
  supplierSku?: string;
  variantId?: number;
  sku?: string;
  sequence?: number;
  /** In our base units, after the unit factor. */
  quantity?: number;
  /** For held lines: which rule held it, and the last known quantity it was compared with. */
  rule?: HeldRule;
  lastQuantity?: number;
}

export type HeldRule = 'negative' | 'spike';

/**
 * Which rule holds a line, from its quantity alone: a negative figure is held as negative, any
 * other held line is a spike. A line recorded as held says its rule through this, not its reason text.
 */
export function heldRuleOf(quantity: number): HeldRule {
  return quantity < 0 ? 'negative' : 'spike';
}

/**
 * Decides what each line of a feed means, in order, without touching anything: the same plan is
 * used to judge a whole feed (quarantine) and to apply it chunk by chunk. `lastApplied` is updated
 * as lines are accepted, so a later line in the same feed is compared with the earlier one.
 * With `override` (a quarantined feed someone approved) spikes and allowed negatives pass.
 */
export function planLines(
  lines: { lineNo: number; raw: unknown }[],
  mappings: ReadonlyMap<string, SkuMapping>,
  lastApplied: Map<number, LastApplied>,
  rules: Pick<FeedRules, 'spikeAbsolute' | 'spikeRelative'>,
  override = false,
): PlannedLine[] {
  return lines.map(({ lineNo, raw }) => {
    const parsed = FeedLine.safeParse(raw);
    if (!parsed.success) return { lineNo, outcome: 'rejected', reason: formatIssues(parsed.error) };
    const line = parsed.data;
    const mapping = mappings.get(line.sku);
    if (!mapping) return { lineNo, outcome: 'unmapped', supplierSku: line.sku, reason: `no mapping for supplier SKU "${line.sku}"` };
    const mapped = { lineNo, supplierSku: line.sku, variantId: mapping.variantId, sku: mapping.sku, sequence: line.sequence };
    const outOfRange = beyondLimit(line.quantity, mapping.unitFactor);
    if (outOfRange) return { ...mapped, outcome: 'rejected', reason: outOfRange };
    const base = { ...mapped, quantity: line.quantity * mapping.unitFactor };
    const last = lastApplied.get(mapping.variantId);
    if (last && line.sequence < last.sequence) {
      return { ...base, outcome: 'stale', reason: `sequence ${line.sequence} is older than ${last.sequence}, already applied` };
    }
    if (last && line.sequence === last.sequence) {
      return { ...base, outcome: 'duplicate', reason: `sequence ${line.sequence} was already applied` };
    }
    const held = heldBy(base.quantity, last, rules);
    if (held && !override) return { ...base, outcome: 'held', rule: held.rule, lastQuantity: last?.quantity, reason: held.reason };
    if (base.quantity < 0 && !mapping.allowNegative) {
      return { ...base, outcome: 'rejected', reason: `quantity ${base.quantity} is negative and ${mapping.sku} does not allow negative stock` };
    }
    lastApplied.set(mapping.variantId, { sequence: line.sequence, quantity: base.quantity });
    return { ...base, outcome: 'applied', lastQuantity: last?.quantity };
  });
}

/**
 * Why a line's quantity in our base units is beyond what one operation may set, if it is. Such a
 * figure can never be applied, whoever approved it: the line is rejected like a quantity over the
 * limit sent in base units, with the figures that make it so. (Within the limit the product is
 * exact; beyond it, it is printed exact from BigInts.)
 */
function beyondLimit(quantity: number, unitFactor: number): string | undefined {
  if (Math.abs(quantity * unitFactor) <= MOVEMENT_LIMIT) return undefined;
  const fmt = (n: number | bigint) => n.toLocaleString('en-US');
  const units = BigInt(quantity) * BigInt(unitFactor);
  return `quantity ${fmt(quantity)} × unit factor ${fmt(unitFactor)} = ${fmt(units)} base units, beyond ±${fmt(MOVEMENT_LIMIT)}, the most one line may set`;
}

function heldBy(quantity: number, last: LastApplied | undefined, rules: Pick<FeedRules, 'spikeAbsolute' | 'spikeRelative'>): { rule: HeldRule; reason: string } | undefined {
  const rule = heldRuleOf(quantity);
  if (rule === 'negative') return { rule, reason: `negative quantity ${quantity}` };
  if (!last) return undefined;
  const change = Math.abs(quantity - last.quantity);
  if (change >= rules.spikeAbsolute && change > rules.spikeRelative * Math.abs(last.quantity)) {
    return { rule, reason: `jump from ${last.quantity} to ${quantity} (over ${Math.round(rules.spikeRelative * 100)}% and at least ${rules.spikeAbsolute} units)` };
  }
  return undefined;
}

/** A feed looks broken when too many of its lines would be held: apply none of it and ask a person. */
export function looksBroken(planned: readonly PlannedLine[], rules: Pick<FeedRules, 'quarantineShare' | 'quarantineMinLines'>): boolean {
  const counts = { read: planned.length, rejected: 0, unmapped: 0, held: 0 };
  for (const p of planned) if (p.outcome === 'rejected' || p.outcome === 'unmapped' || p.outcome === 'held') counts[p.outcome] += 1;
  return countsLookBroken(counts, rules);
}

/** The same judgement from the outcome counts alone, for a feed planned a slice at a time. */
export function countsLookBroken(
  counts: Pick<FeedCounts, 'read' | 'rejected' | 'unmapped' | 'held'>,
  rules: Pick<FeedRules, 'quarantineShare' | 'quarantineMinLines'>,
): boolean {
  const considered = counts.read - counts.rejected - counts.unmapped;
  const suspect = counts.held;
  return considered >= rules.quarantineMinLines && suspect / considered > rules.quarantineShare;
}
