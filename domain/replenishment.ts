/**
 * Replenishment rules: when a SKU at a location is low, and how much to order from its supplier.
 * Pure: the run (db/replenishment.ts) reads the figures from the ledger in one pass and asks these
 * rules what to do with them; the README's "Replenishment" section states the same formulas.
 */

/** What the supplier allows: whole cases of `packSize` units, never fewer than `moq` units. */
export interface SupplierTerms {
  leadTimeDays: number;
  packSize: number;
  moq: number;
}

/** A policy a buyer fixed: reorder when the position falls to `reorderPoint`, order `orderQuantity`. */
export interface StaticPolicy {
  kind: 'static';
  reorderPoint: number;
  orderQuantity: number;
}

/** A policy computed from demand: cover the lead time plus `safetyDays`, order up to `targetDays` of cover. */
export interface DynamicPolicy {
  kind: 'dynamic';
  safetyDays: number;
  targetDays: number;
}

export type ReorderPolicy = StaticPolicy | DynamicPolicy;

/** One SKU at one location as the ledger stands: demand over the window and the stock position. */
export interface StockPosition {
  /** Units that left through sales and issues (`ship` and `issue` movements) within the window. */
  issued: number;
  windowDays: number;
  available: number;
  incoming: number;
}

export interface ReorderLine {
  velocity: number;
  reorderPoint: number;
  quantity: number;
  reason: string;
}

/** Units per day over the trailing window. */
export function velocity(issued: number, windowDays: number): number {
  if (!(windowDays > 0)) throw new RangeError(`windowDays must be positive, got ${windowDays}`);
  return Math.max(0, issued) / windowDays;
}

/** Demand expected while an order is on its way, plus the safety cover. */
export function reorderPoint(unitsPerDay: number, leadTimeDays: number, safetyDays: number): number {
  return unitsPerDay * (leadTimeDays + safetyDays);
}

/** Whole cases covering at least `need` units and at least the MOQ; nothing when nothing is needed. */
export function roundToTerms(need: number, terms: Pick<SupplierTerms, 'packSize' | 'moq'>): number {
  if (!(terms.packSize >= 1)) throw new RangeError(`packSize must be at least 1, got ${terms.packSize}`);
  if (need <= 0) return 0;
  const units = Math.max(Math.ceil(need), terms.moq);
  return Math.ceil(units / terms.packSize) * terms.packSize;
}

/** Units to reach `targetDays` of cover net of what is available and already on its way. */
export function orderQuantity(unitsPerDay: number, targetDays: number, position: Pick<StockPosition, 'available' | 'incoming'>, terms: SupplierTerms): number {
  return roundToTerms(unitsPerDay * targetDays - (position.available + position.incoming), terms);
}

const figure = (n: number) => String(Math.round(n * 100) / 100);

/**
 * The line to order for one SKU at one location, or null when it is not low. Low means the
 * position (available + incoming) is at or below the reorder point and there is something to order.
 * A static policy overrides demand: its quantity still goes out in whole cases and at least the MOQ.
 */
export function assess(policy: ReorderPolicy, position: StockPosition, terms: SupplierTerms): ReorderLine | null {
  const unitsPerDay = velocity(position.issued, position.windowDays);
  const onTheWay = position.available + position.incoming;
  const stance = `available ${position.available} + incoming ${position.incoming} = ${onTheWay}`;
  if (policy.kind === 'static') {
    if (onTheWay > policy.reorderPoint) return null;
    const quantity = roundToTerms(policy.orderQuantity, terms);
    if (quantity === 0) return null;
    return { velocity: unitsPerDay, reorderPoint: policy.reorderPoint, quantity, reason: `${stance} ≤ static reorder point ${policy.reorderPoint}; static quantity ${policy.orderQuantity} → ${quantity} (pack ${terms.packSize}, MOQ ${terms.moq})` };
  }
  const point = reorderPoint(unitsPerDay, terms.leadTimeDays, policy.safetyDays);
  if (onTheWay > point) return null;
  const quantity = orderQuantity(unitsPerDay, policy.targetDays, position, terms);
  if (quantity === 0) return null;
  return {
    velocity: unitsPerDay,
    reorderPoint: point,
    quantity,
    reason:
      `${stance} ≤ reorder point ${figure(point)} = ${figure(unitsPerDay)}/day × (lead ${terms.leadTimeDays} + safety ${policy.safetyDays}) days; ` +
      `order up to ${policy.targetDays} days of cover: ${figure(unitsPerDay * policy.targetDays)} − ${onTheWay} → ${quantity} (pack ${terms.packSize}, MOQ ${terms.moq})`,
  };
}

/** One supplier's share of a run: its lines and what they cost. */
export interface SupplierSuggestion<L> {
  supplierId: string;
  lines: L[];
  value: number;
}

/** Low lines grouped into one suggestion per supplier, valued at the supplier's unit cost, by supplier id, lines in the order given. */
export function groupBySupplier<L extends { supplierId: string; quantity: number; unitCost: number }>(lines: readonly L[]): SupplierSuggestion<L>[] {
  const bySupplier = new Map<string, SupplierSuggestion<L>>();
  for (const line of lines) {
    const group = bySupplier.get(line.supplierId) ?? { supplierId: line.supplierId, lines: [], value: 0 };
    group.lines.push(line);
    group.value = Math.round((group.value + line.quantity * line.unitCost) * 10_000) / 10_000;
    bySupplier.set(line.supplierId, group);
  }
  return [...bySupplier.values()].sort((a, b) => (a.supplierId < b.supplierId ? -1 : a.supplierId > b.supplierId ? 1 : 0));
}
