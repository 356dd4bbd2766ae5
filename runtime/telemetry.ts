import { Runtime, type Logger } from '@temporalio/worker';
import { setSdkMetricsUrl } from './metrics';
import { processTracingFromEnv } from './tracing';
import { freePort } from './wait';

/**
 * Starts tracing when the OTLP variables are set (runtime/tracing.ts), and installs the process's Temporal Runtime (once per process: the SDK refuses a second call) with
 * Core's Prometheus exporter on a free loopback port. Nothing scrapes that port directly: `/metrics`
 * of the API or the worker appends what it serves, so every process is one scrape target.
 */
export async function installRuntime(options: { logger: Logger; shutdownSignals?: NodeJS.Signals[] }): Promise<void> {
  processTracingFromEnv('stockflow');
  const port = await freePort();
  Runtime.install({
    logger: options.logger,
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } },
  });
  setSdkMetricsUrl(`http://127.0.0.1:${port}/metrics`);
}
