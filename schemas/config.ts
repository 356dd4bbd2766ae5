import { z } from 'zod';
import { AlertRulesText } from './alerts';
import { FeedRules } from './feeds';
import { DurationSeconds } from './duration';
import { OidcSettings, UiDecisions } from './identity';
import { OrderWindows, type AllocationRules } from './orders';
import { PurchasingRules } from './purchase-orders';
import { AbcSharesText, CountFrequencyText, type CountingRules } from './counting';

const port = z.coerce.number().int().min(1, 'must be a port number').max(65535, 'must be a port number');
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** A comma-separated list of codes; empty when unset. */
const codeList = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((code) => code.trim()).filter((code) => code !== ''));

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
  /** The bootstrap admin token: enough to add users and issue their tokens. */
  STOCKFLOW_API_TOKEN: optionalText,
  /** JSON file `{ "<source id>": "<secret>" }` with each upstream system's own signing secret. */
  STOCKFLOW_SOURCE_SECRETS_FILE: optionalText,
  /** OIDC: bearer JWTs from this issuer, for this audience, signed by a key of this JWKS, are accepted. */
  STOCKFLOW_OIDC_ISSUER: optionalText,
  STOCKFLOW_OIDC_AUDIENCE: optionalText,
  STOCKFLOW_OIDC_JWKS_URL: optionalText.pipe(z.url({ error: 'must be an http(s) URL' }).optional()),
  /** The claim holding the Stockflow role(s): an array or a space-separated string; the strongest counts. */
  STOCKFLOW_OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** The claim naming the principal (decisions are recorded under it, so it matches the owner id). */
  STOCKFLOW_OIDC_ID_CLAIM: z.string().min(1).default('sub'),
  /** Decisions sent as signals (the Temporal UI) carry no identity: `deny` refuses them, `allow` accepts them. */
  STOCKFLOW_UI_DECISIONS: UiDecisions.default('deny'),
  /** Failed authentications per minute from one address before it is answered 429 (per API process). */
  STOCKFLOW_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(20),
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
  /** Largest catalogue import the API accepts, in bytes (larger: 413). */
  STOCKFLOW_IMPORT_MAX_BYTES: z.coerce.number().int().positive().default(64 * 1024 * 1024),
  /** Records applied per chunk (one transaction each) by a catalogue import. */
  STOCKFLOW_IMPORT_CHUNK_SIZE: z.coerce.number().int().min(1).max(20_000).default(1000),
  /** `off`: \`npm start\` leaves an empty database empty instead of seeding the demo catalogue. */
  STOCKFLOW_DEMO: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  /** How long past both windows a reservation is kept before the sweep may release it. */
  STOCKFLOW_ORDER_RESERVATION_GRACE: OrderWindows.shape.reservationGrace.default(24 * 3600),
  /** How long a cart's hold lasts unless the request says (POST /v1/reservations); at most 90 days. */
  STOCKFLOW_CART_TTL: DurationSeconds.default(15 * 60),
  /** How an order that names no location is allocated: `priority` (STOCKFLOW_LOCATION_PRIORITY order) or `most_available`. */
  STOCKFLOW_ALLOCATION_STRATEGY: z.enum(['priority', 'most_available'], { error: 'must be priority or most_available' }).default('priority'),
  /** Location codes, most preferred first, comma-separated; unlisted locations come after, by code. */
  STOCKFLOW_LOCATION_PRIORITY: codeList,
  /** When backordered units are expected, from now, when no open purchase order covers them. */
  STOCKFLOW_BACKORDER_LEAD_TIME: DurationSeconds.default(14 * 86400),
  /** Trailing days of ledger demand a dynamic reorder policy that names no window measures velocity over. */
  STOCKFLOW_REPLENISHMENT_WINDOW_DAYS: z.coerce.number().int().min(1).max(3650).default(28),
  /** Days past its expected date a purchase order not received in full waits before it opens a `purchase_order_late` exception. */
  STOCKFLOW_PO_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(2),
  /** Share of an order line's quantity that may be received beyond it (0.1 = 10 %); more is refused. */
  STOCKFLOW_OVER_RECEIPT_TOLERANCE: fromText(PurchasingRules.shape.overReceiptTolerance).default(0.1),
  /** Percent of SKUs by revenue that are class A, then B (`20,30`); the rest are C. */
  STOCKFLOW_ABC_SHARES: AbcSharesText,
  /** Trailing days of shipped and issued units the ABC classes are computed over. */
  STOCKFLOW_ABC_WINDOW_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** How often an A, B and C SKU-location is cycle counted, in days (`7,30,90`). */
  STOCKFLOW_COUNT_FREQUENCY_DAYS: CountFrequencyText,
  /** Channels whose orders may split a line across locations, comma-separated. */
  STOCKFLOW_SPLIT_SHIPMENT_CHANNELS: codeList,
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

/** How the counting programme classes SKUs and how often it counts each class. */
export function countingRulesOf(config: EnvConfig): CountingRules {
  return { shares: config.STOCKFLOW_ABC_SHARES, windowDays: config.STOCKFLOW_ABC_WINDOW_DAYS, frequencies: config.STOCKFLOW_COUNT_FREQUENCY_DAYS };
}

/** How orders that name no location are allocated. */
export function allocationRulesOf(config: EnvConfig): AllocationRules {
  return {
    strategy: config.STOCKFLOW_ALLOCATION_STRATEGY,
    locationPriority: config.STOCKFLOW_LOCATION_PRIORITY,
    splitChannels: config.STOCKFLOW_SPLIT_SHIPMENT_CHANNELS,
    backorderLeadSeconds: config.STOCKFLOW_BACKORDER_LEAD_TIME,
  };
}

/** How purchase orders are run. */
export function purchasingRulesOf(config: EnvConfig): PurchasingRules {
  return { graceSeconds: config.STOCKFLOW_PO_GRACE_DAYS * 86_400, overReceiptTolerance: config.STOCKFLOW_OVER_RECEIPT_TOLERANCE };
}

/** The OIDC settings, when the issuer, audience and JWKS URL are all set (none set: OIDC is off). */
export function oidcSettingsOf(config: EnvConfig): OidcSettings | undefined {
  const parts = { issuer: config.STOCKFLOW_OIDC_ISSUER, audience: config.STOCKFLOW_OIDC_AUDIENCE, jwksUrl: config.STOCKFLOW_OIDC_JWKS_URL };
  const missing = Object.entries(parts).filter(([, v]) => v === undefined);
  if (missing.length === 3) return undefined;
  if (missing.length > 0) throw new Error('invalid configuration: STOCKFLOW_OIDC_ISSUER, STOCKFLOW_OIDC_AUDIENCE and STOCKFLOW_OIDC_JWKS_URL are set together or not at all');
  return OidcSettings.parse({ ...parts, rolesClaim: config.STOCKFLOW_OIDC_ROLES_CLAIM, idClaim: config.STOCKFLOW_OIDC_ID_CLAIM });
}
