import { loadConfig } from '../runtime/config';
import type { Kpis } from '../schemas/kpis';
import { ApiClient, apiClientOptions } from './api-client';

const fixed = (n: number | null, digits = 1) => (n === null ? '—' : n.toFixed(digits));
const percent = (n: number | null) => (n === null ? '—' : `${(n * 100).toFixed(1)}%`);
const money = (n: number | null) => (n === null ? 'no prices yet' : n.toFixed(2));

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** The KPIs as the terminal shows them: one block per KPI, the same figures as the dashboard. */
export function formatKpis(k: Kpis): string {
  const r = k.revenueAtRisk;
  const filters = [k.filters.location && `location ${k.filters.location}`, k.filters.owner && `owner ${k.filters.owner}`].filter(Boolean).join(', ');
  return [
    `KPIs ${k.window.from} → ${k.window.to}${filters ? ` (${filters})` : ''}`,
    '',
    `REVENUE AT RISK  ${r.units} units (value: ${money(r.value)})`,
    ...table(
      ['held by', 'units', 'things'],
      [
        ['feeds held/quarantined', String(r.feedHeld.units), `${r.feedHeld.things} lines`],
        ['counts blocked', String(r.countBlocked.units), `${r.countBlocked.things} SKU-locations`],
        ['orders in exceptions', String(r.ordersInExceptions.units), `${r.ordersInExceptions.things} orders`],
        ['channel figures stale', String(r.channelStale.units), `${r.channelStale.things} SKUs`],
      ],
    ),
    '',
    ...table(
      ['channel', 'owner', 'lag s', 'pending', 'stale', 'window s'],
      k.channelSync.map((c) => [c.channel, c.owner, fixed(c.lagSeconds, 0), String(c.pendingSkus), String(c.staleSkus), String(c.staleAfterSeconds)]),
    ),
    '',
    ...table(
      ['update latency', 'count', 'p50 ms', 'p95 ms'],
      k.updateLatency.map((l) => [l.flow, String(l.count), fixed(l.p50, 0), fixed(l.p95, 0)]),
    ),
    '',
    ...table(
      ['failed updates', 'received', 'refused', 'rejected', 'held', 'rate'],
      k.failedUpdateRate.map((f) => [f.source, f.received, f.refused, f.rejected, f.held].map(String).concat(percent(f.rate))),
    ),
    '',
    `EXCEPTION BACKLOG  ${k.exceptionBacklog.total} unresolved, ${k.slaBreaches.total} SLA breaches in the window`,
    ...table(
      ['owner', 'type', 'open', 'ack', '<1h', '<1d', '<7d', '≥7d'],
      k.exceptionBacklog.rows.map((b) => [b.owner, b.type, b.open, b.acknowledged, b.under1h, b.under1d, b.under7d, b.over7d].map(String)),
    ),
    `time to acknowledge p50 ${fixed(k.timeToAcknowledge.p50, 0)} s, p95 ${fixed(k.timeToAcknowledge.p95, 0)} s (${k.timeToAcknowledge.count})`,
    `time to resolve     p50 ${fixed(k.timeToResolve.p50, 0)} s, p95 ${fixed(k.timeToResolve.p95, 0)} s (${k.timeToResolve.count})`,
    '',
    `stock accuracy      ${percent(k.stockAccuracy.share)} (${k.stockAccuracy.numerator} of ${k.stockAccuracy.denominator} counted SKU-locations within tolerance)`,
    `  by ABC class      ${(['A', 'B', 'C'] as const).map((c) => `${c} ${percent(k.stockAccuracyByClass[c].share)}`).join(', ')}`,
    `shrinkage           ${k.shrinkage.units} units${k.shrinkage.byReason.length ? ` (${k.shrinkage.byReason.map((s) => `${s.reasonCode} ${s.units}`).join(', ')})` : ''}`,
    `stockouts           ${k.stockouts.events} events, ${k.stockouts.skuLocations} SKU-locations, ${fixed(k.stockouts.daysOutOfStock, 2)} days out of stock`,
    `inventory turnover  ${fixed(k.inventoryTurnover.unitTurns, 2)} (units: ${k.inventoryTurnover.unitsIssued} issued, on hand ${k.inventoryTurnover.openingUnits} → ${k.inventoryTurnover.closingUnits})`,
    `  at cost           ${fixed(k.inventoryTurnover.valueTurns, 2)} (cost of goods issued ${money(k.inventoryTurnover.costOfGoodsIssued)}, stock ${money(k.inventoryTurnover.openingValue)} → ${money(k.inventoryTurnover.closingValue)})`,
    `orders needing a person ${percent(k.ordersNeedingPerson.share)} (${k.ordersNeedingPerson.numerator} of ${k.ordersNeedingPerson.denominator})`,
    `reconciliation      ${k.reconciliation.runs.length} runs, ${k.reconciliation.runs.reduce((a, run) => a + run.deltas, 0)} deltas`,
  ].join('\n');
}

/** `stockflow kpis`: the KPIs of the running stack. */
export async function kpisCommand(options: { api?: string; window: string; location?: string; owner?: string; json?: boolean }): Promise<void> {
  const api = new ApiClient(apiClientOptions(loadConfig(), options.api));
  const query = new URLSearchParams({ window: options.window });
  if (options.location) query.set('location', options.location);
  if (options.owner) query.set('owner', options.owner);
  const response = await api.get(`/v1/kpis?${query}`);
  if (response.status !== 200) {
    console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
    process.exitCode = 1;
    return;
  }
  console.log(options.json ? JSON.stringify(response.body, null, 2) : formatKpis(response.body));
}
