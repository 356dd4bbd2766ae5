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

/**
 * A policy computed from demand: cover the lead time plus a safety stock, order up to `targetDays`
 * of cover. The safety stock is `safetyDays` of demand, plus, with a `serviceLevel`, z × σ × √lead
 * time from how much daily demand varies (either part may be 0).
 */
export interface DynamicPolicy {
  kind: 'dynamic';
  safetyDays: number;
  targetDays: number;
  /** The chance of not running out during a lead time (0.95 = 95 %). */
  serviceLevel?: number;
}

export type ReorderPolicy = StaticPolicy | DynamicPolicy;

/** One SKU at one location as the ledger stands: demand over the window and the stock position. */
export interface StockPosition {
  /** Units that left through sales and issues (`ship` and `issue` movements) within the window. */
  issued: number;
  windowDays: number;
  available: number;
  incoming: number;
  /** Standard deviation of units issued per day over the window (days without demand count as 0). */
  dailyDeviation?: number;
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

/** Demand expected while an order is on its way, plus the safety stock. */
export function reorderPoint(unitsPerDay: number, leadTimeDays: number, safetyUnits: number): number {
  return unitsPerDay * leadTimeDays + safetyUnits;
}

/** Standard deviation of daily demand from the window's sums: Σx and Σx² over `days` days, days without demand as 0. */
export function dailyDeviation(sum: number, sumOfSquares: number, days: number): number {
  if (!(days > 0)) throw new RangeError(`days must be positive, got ${days}`);
  const mean = sum / days;
  return Math.sqrt(Math.max(0, sumOfSquares / days - mean * mean));
}

/**
 * The standard normal quantile: z such that P(Z ≤ z) = p (Acklam's rational approximation,
 * relative error below 1.2e-9). 0.95 → 1.645, 0.99 → 2.326.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be between 0 and 1, got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Safety stock of a dynamic policy: days of demand, plus z(service level) × σ(daily demand) × √lead time. */
export function safetyStock(policy: Pick<DynamicPolicy, 'safetyDays' | 'serviceLevel'>, unitsPerDay: number, deviation: number, leadTimeDays: number): number {
  const variability = policy.serviceLevel === undefined ? 0 : normalQuantile(policy.serviceLevel) * deviation * Math.sqrt(leadTimeDays);
  return unitsPerDay * policy.safetyDays + Math.max(0, variability);
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
  const deviation = position.dailyDeviation ?? 0;
  const safety = safetyStock(policy, unitsPerDay, deviation, terms.leadTimeDays);
  const point = reorderPoint(unitsPerDay, terms.leadTimeDays, safety);
  if (onTheWay > point) return null;
  const quantity = orderQuantity(unitsPerDay, policy.targetDays, position, terms);
  if (quantity === 0) return null;
  const variability =
    policy.serviceLevel === undefined
      ? ''
      : ` + z(${policy.serviceLevel}) ${figure(normalQuantile(policy.serviceLevel))} × σ ${figure(deviation)}/day × √${terms.leadTimeDays}`;
  return {
    velocity: unitsPerDay,
    reorderPoint: point,
    quantity,
    reason:
      `${stance} ≤ reorder point ${figure(point)} = ${figure(unitsPerDay)}/day × (lead ${terms.leadTimeDays} + safety ${policy.safetyDays}) days${variability}; ` +
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
