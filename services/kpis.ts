import { staleSkus } from '../db/channels';
import { priceBooks, readKpiRows, type KpiRows } from '../db/kpis';
import { failedRate, share, staleUnits, trendOf, turns, unitsBySku, valueAtPrice, windowDays, type PriceBook } from '../domain/kpis';
import type { KpiQuery, Kpis } from '../schemas/kpis';
import type { Services } from './context';

/**
 * The KPIs of docs/kpis.md over the window ending `now`. Units at risk are valued at the
 * catalogue's unit price, units lost (shrinkage) at unit cost, both as they stood at the window's
 * end; a value is null while the catalogue holds no price (or cost).
 */
export async function computeKpis(s: Pick<Services, 'db'>, query: KpiQuery, options: { now?: Date } = {}): Promise<Kpis> {
  const to = options.now ?? new Date();
  const from = new Date(to.getTime() - query.window * 1000);
  const [rows, books] = await Promise.all([readKpiRows(s.db, { from, to, location: query.location, owner: query.owner }), priceBooks(s.db, to)]);
  const stale = await Promise.all(rows.channels.filter((c) => c.staleSkus > 0).map((c) => staleSkus(s.db, c.channel, STALE_SKUS_VALUED)));
  return assemble(rows, staleUnits(stale.flat()), { from, to, seconds: query.window, location: query.location, owner: query.owner }, books);
}

/** Per channel, the stale SKUs valued: the oldest this many (a channel down for long has many, all alike). */
const STALE_SKUS_VALUED = 5_000;

function assemble(
  rows: KpiRows,
  channelStaleUnits: { sku: string; units: number }[],
  w: { from: Date; to: Date; seconds: number; location?: string; owner?: string },
  { prices, costs }: { prices?: PriceBook; costs?: PriceBook },
): Kpis {
  const riskPart = (part: KpiRows['risk'][number]['part']) => {
    const mine = rows.risk.filter((r) => r.part === part);
    const bySku = unitsBySku(mine);
    return { units: sum(bySku.map((u) => u.units)), things: sum(mine.map((r) => r.things)), value: valueAtPrice(bySku, prices), bySku };
  };
  const feedHeld = riskPart('feedHeld');
  const countBlocked = riskPart('countBlocked');
  const ordersInExceptions = riskPart('ordersInExceptions');
  const staleBySku = unitsBySku(channelStaleUnits);
  const channelStale = { units: sum(staleBySku.map((u) => u.units)), things: sum(rows.channels.map((c) => c.staleSkus)), value: valueAtPrice(staleBySku, prices), bySku: staleBySku };
  const allAtRisk = unitsBySku([...feedHeld.bySku, ...countBlocked.bySku, ...ordersInExceptions.bySku, ...staleBySku]);

  const reasons = [...new Set(rows.shrinkage.map((r) => r.reasonCode))].sort();
  const shrinkageByReason = reasons.map((reasonCode) => {
    const units = unitsBySku(rows.shrinkage.filter((r) => r.reasonCode === reasonCode));
    return { reasonCode, units: sum(units.map((u) => u.units)), value: valueAtPrice(units, costs) };
  });
  const shrunk = unitsBySku(rows.shrinkage);
  const { unitsIssued, openingUnits, closingUnits, issuedCost, openingValue, closingValue } = rows.turnover;
  const valued = issuedCost !== null && openingValue !== null && closingValue !== null;

  return {
    generatedAt: w.to.toISOString(),
    window: { from: w.from.toISOString(), to: w.to.toISOString(), seconds: w.seconds },
    filters: { location: w.location ?? null, owner: w.owner ?? null },
    revenueAtRisk: { units: sum(allAtRisk.map((u) => u.units)), value: valueAtPrice(allAtRisk, prices), feedHeld, countBlocked, ordersInExceptions, channelStale },
    channelSync: rows.channels,
    updateLatency: rows.latency.map((r) => ({ flow: r.flow, unit: 'ms' as const, count: r.count, p50: r.p50, p95: r.p95 })),
    failedUpdateRate: rows.failed.map((r) => ({ ...r, rate: failedRate(r) })),
    exceptionBacklog: { total: sum(rows.backlog.map((r) => r.open + r.acknowledged)), rows: rows.backlog, oldest: rows.oldest },
    slaBreaches: { total: sum(rows.breaches.map((r) => r.breaches)), byOwner: rows.breaches },
    timeToAcknowledge: { ...rows.acknowledge, unit: 's' },
    timeToResolve: { ...rows.resolve, unit: 's' },
    reconciliation: { runs: rows.runs.map((r) => ({ ...r, byKind: r.byKind ?? {} })) },
    stockAccuracy: share(rows.accuracy.withinTolerance, rows.accuracy.counted),
    stockAccuracyByClass: {
      A: share(rows.accuracy.byClass.A.withinTolerance, rows.accuracy.byClass.A.counted),
      B: share(rows.accuracy.byClass.B.withinTolerance, rows.accuracy.byClass.B.counted),
      C: share(rows.accuracy.byClass.C.withinTolerance, rows.accuracy.byClass.C.counted),
    },
    shrinkage: { units: sum(shrunk.map((u) => u.units)), value: valueAtPrice(shrunk, costs), byReason: shrinkageByReason },
    stockouts: { events: rows.stockouts.events, skuLocations: rows.stockouts.skuLocations, daysOutOfStock: rows.stockouts.daysOutOfStock },
    inventoryTurnover: {
      unitsIssued,
      openingUnits,
      closingUnits,
      unitTurns: turns(unitsIssued, openingUnits, closingUnits),
      costOfGoodsIssued: issuedCost,
      openingValue,
      closingValue,
      valueTurns: valued ? turns(issuedCost, openingValue, closingValue) : null,
    },
    ordersNeedingPerson: share(rows.orders.needingPerson, rows.orders.orders),
    trend: trendOf(windowDays(w.from, w.to), rows.daily, rows.stockouts.byDay),
  };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + Number(b), 0);
