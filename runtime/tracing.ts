import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryPlugin, OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';

/** The workflow-side interceptors, bundled into the workflow code when tracing is on. */
export const OTEL_WORKFLOW_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Tracing is on when the standard OTLP variables name somewhere to send spans. */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface Tracing {
  /** For Worker.create: client, activity and workflow interceptors plus the workflow span exporter. */
  plugin: OpenTelemetryPlugin;
  /** For a Client: starting or signalling a workflow carries the caller's span into it. */
  clientInterceptor: OpenTelemetryWorkflowClientInterceptor;
  /** Sends what is buffered and puts the global tracer back to the no-op one. */
  shutdown(): Promise<void>;
}

/**
 * Starts exporting spans over OTLP/HTTP (the exporter reads OTEL_EXPORTER_OTLP_* itself unless
 * `url` is given) and registers the provider globally, so the API's request spans and the Temporal
 * interceptors share one trace: request → StartWorkflow → RunWorkflow → StartActivity → RunActivity.
 */
export function startTracing(options: { serviceName: string; url?: string }): Tracing {
  const resource = new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME ?? options.serviceName });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter(options.url ? { url: options.url } : {}), { scheduledDelayMillis: 500 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor }),
    clientInterceptor: new OpenTelemetryWorkflowClientInterceptor(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

let processTracing: Tracing | undefined;

/** This process's tracing, started once from the environment by runtime/telemetry.ts; undefined when off. */
export function processTracingFromEnv(serviceName: string): Tracing | undefined {
  if (!processTracing && tracingConfigured()) processTracing = startTracing({ serviceName });
  return processTracing;
}

export function currentTracing(): Tracing | undefined {
  return processTracing;
}
