import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics: Node's own, Stockflow's business counters, and the Temporal
 * SDK's (Core serves those on a loopback port of its own, see runtime/telemetry.ts; `/metrics`
 * appends them so each process is one scrape target).
 *
 * Counters are incremented by activities and services after their transaction committed, never by
 * workflow code (a replayed workflow would count twice).
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

export const metrics = {
  movementsApplied: new Counter({ name: 'stockflow_movements_applied_total', help: 'Stock operations applied to the ledger, by kind (replays not counted)', labelNames: ['kind'], registers }),
  refusals: new Counter({ name: 'stockflow_refusals_total', help: 'Stock operations the ledger refused, by reason code', labelNames: ['code'], registers }),
  exceptionsOpened: new Counter({ name: 'stockflow_exceptions_opened_total', help: 'Exceptions opened, by type', labelNames: ['type'], registers }),
  exceptionsDecided: new Counter({ name: 'stockflow_exceptions_decided_total', help: 'Exceptions approved or rejected, by decision', labelNames: ['decision'], registers }),
  feedLines: new Counter({ name: 'stockflow_feed_lines_total', help: 'Supplier feed lines processed, by outcome', labelNames: ['outcome'], registers }),
  orderOutcomes: new Counter({ name: 'stockflow_order_outcomes_total', help: 'Orders that reached a final state, by state', labelNames: ['state'], registers }),
  httpDuration: new Histogram({
    name: 'stockflow_http_request_duration_seconds',
    help: 'API request duration, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
};

let sdkMetricsUrl: string | undefined;

/** Where the Temporal SDK serves its metrics in this process (set once by runtime/telemetry.ts). */
export function setSdkMetricsUrl(url: string): void {
  sdkMetricsUrl = url;
}

/** The exposition text of everything above, followed by the SDK's when it serves any. */
export async function metricsText(): Promise<string> {
  const own = await registry.metrics();
  if (!sdkMetricsUrl) return own;
  try {
    const response = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
    return `${own}\n${await response.text()}`;
  } catch (error) {
    // A scrape should still show the process's own figures when the SDK's endpoint is unreachable.
    return `${own}\n# Temporal SDK metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`;
  }
}

export const METRICS_CONTENT_TYPE = registry.contentType;
