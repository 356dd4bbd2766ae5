import { z } from 'zod';
import { AlertRulesText } from './alerts';
import { FeedRules } from './feeds';
import { OrderWindows } from './orders';

const port = z.coerce.number().int().min(1, 'must be a port number').max(65535, 'must be a port number');
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** A number from an environment variable, held to the rule's own constraints. */
const fromText = (rule: z.ZodNumber) => z.coerce.number().pipe(rule);

/**
 * Every setting Stockflow reads from the environment, and the one place their defaults live.
 * Unset means "start it myself locally" for the servers, and the default for everything else.
 */
export const EnvConfig = z.object({
  DATABASE_URL: optionalText.pipe(z.url({ error: 'must be a postgres:// URL' }).optional()),
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: optionalText,
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_PORT: port.default(7233),
  STOCKFLOW_TASK_QUEUE: z.string().min(1).default('stockflow'),
  STOCKFLOW_API_HOST: z.string().min(1).default('127.0.0.1'),
  STOCKFLOW_API_PORT: port.default(3000),
  STOCKFLOW_PG_PORT: port.default(54329),
  STOCKFLOW_DATA_DIR: z.string().min(1).default('.data'),
  STOCKFLOW_WEBHOOK_SECRET: optionalText,
  STOCKFLOW_API_TOKEN: optionalText,
  /** Where the Temporal Web UI lives, for links in notifications and CLI output. */
  TEMPORAL_UI_URL: optionalText,
  /** Owners and ownership rules, loaded into Postgres on first start. */
  STOCKFLOW_OWNERSHIP_FILE: z.string().min(1).default('config/ownership.json'),
  /** Largest supplier feed the API accepts, in bytes (larger: 413). */
  STOCKFLOW_FEED_MAX_BYTES: z.coerce.number().int().positive().default(64 * 1024 * 1024),
  STOCKFLOW_FEED_SPIKE_ABSOLUTE: fromText(FeedRules.shape.spikeAbsolute).default(50),
  STOCKFLOW_FEED_SPIKE_RELATIVE: fromText(FeedRules.shape.spikeRelative).default(0.5),
  STOCKFLOW_FEED_QUARANTINE_SHARE: fromText(FeedRules.shape.quarantineShare).default(0.2),
  STOCKFLOW_FEED_QUARANTINE_MIN_LINES: fromText(FeedRules.shape.quarantineMinLines).default(10),
  STOCKFLOW_FEED_CHUNK_SIZE: fromText(FeedRules.shape.chunkSize).default(2000),
  /** Slack-compatible webhook that exception notifications are posted to; unset means log only. */
  STOCKFLOW_NOTIFY_WEBHOOK_URL: optionalText.pipe(z.url({ error: 'must be an http(s) URL' }).optional()),
  /** Where paid orders are handed to the warehouse (POST of JSON); unset means the hand-off is only logged. */
  STOCKFLOW_FULFILMENT_URL: optionalText.pipe(z.url({ error: 'must be an http(s) URL' }).optional()),
  /** How long a reserved order waits for payment before its reservation expires. */
  STOCKFLOW_ORDER_PAYMENT_WINDOW: OrderWindows.shape.paymentWindow.default(30 * 60),
  /** How long a handed-off order waits for the warehouse before an exception is opened. */
  STOCKFLOW_ORDER_FULFILMENT_WINDOW: OrderWindows.shape.fulfilmentWindow.default(2 * 3600),
  /** How long past both windows a reservation is kept before the sweep may release it. */
  STOCKFLOW_ORDER_RESERVATION_GRACE: OrderWindows.shape.reservationGrace.default(24 * 3600),
  /** Where `stockflow worker` serves Prometheus /metrics (host:port), or `off`. The API serves its own at /metrics. */
  STOCKFLOW_WORKER_METRICS: z
    .string()
    .regex(/^(off|[^\s:]+:\d{1,5})$/, 'must be host:port (e.g. 127.0.0.1:9464) or off')
    .default('127.0.0.1:9464'),
  /** KPI alert rules, a JSON array (schemas/alerts.ts); checked every 5 minutes by a schedule. */
  STOCKFLOW_ALERTS: AlertRulesText,
});
export type EnvConfig = z.infer<typeof EnvConfig>;

/** The configuration of an empty environment: every default. */
export const DEFAULT_CONFIG: EnvConfig = EnvConfig.parse({});

/** The feed rule thresholds the configuration sets. */
export function feedRulesOf(config: EnvConfig): FeedRules {
  return {
    spikeAbsolute: config.STOCKFLOW_FEED_SPIKE_ABSOLUTE,
    spikeRelative: config.STOCKFLOW_FEED_SPIKE_RELATIVE,
    quarantineShare: config.STOCKFLOW_FEED_QUARANTINE_SHARE,
    quarantineMinLines: config.STOCKFLOW_FEED_QUARANTINE_MIN_LINES,
    chunkSize: config.STOCKFLOW_FEED_CHUNK_SIZE,
  };
}

/** The payment and fulfilment windows the configuration gives each new order. */
export function orderWindowsOf(config: EnvConfig): OrderWindows {
  return {
    paymentWindow: config.STOCKFLOW_ORDER_PAYMENT_WINDOW,
    fulfilmentWindow: config.STOCKFLOW_ORDER_FULFILMENT_WINDOW,
    reservationGrace: config.STOCKFLOW_ORDER_RESERVATION_GRACE,
  };
}
