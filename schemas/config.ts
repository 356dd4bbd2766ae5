import { z } from 'zod';
import { DurationSeconds } from './duration';

const port = z.coerce.number().int().min(1, 'must be a port number').max(65535, 'must be a port number');
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** Every setting Stockflow reads from the environment. Unset means "start it myself locally". */
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
  /** Slack-compatible webhook that exception notifications are posted to; unset means log only. */
  /** Largest supplier feed the API accepts, in bytes (larger: 413). */
  STOCKFLOW_FEED_MAX_BYTES: z.coerce.number().int().positive().default(64 * 1024 * 1024),
  STOCKFLOW_FEED_SPIKE_ABSOLUTE: z.coerce.number().int().positive().optional(),
  STOCKFLOW_FEED_SPIKE_RELATIVE: z.coerce.number().positive().optional(),
  STOCKFLOW_FEED_QUARANTINE_SHARE: z.coerce.number().gt(0).max(1).optional(),
  STOCKFLOW_FEED_QUARANTINE_MIN_LINES: z.coerce.number().int().positive().optional(),
  STOCKFLOW_FEED_CHUNK_SIZE: z.coerce.number().int().positive().max(20_000).optional(),
  STOCKFLOW_NOTIFY_WEBHOOK_URL: optionalText.pipe(z.url({ error: 'must be an http(s) URL' }).optional()),
  /** Where paid orders are handed to the warehouse (POST of JSON); unset means the hand-off is only logged. */
  STOCKFLOW_FULFILMENT_URL: optionalText.pipe(z.url({ error: 'must be an http(s) URL' }).optional()),
  /** How long a reserved order waits for payment before its reservation expires. */
  STOCKFLOW_ORDER_PAYMENT_WINDOW: DurationSeconds.default(30 * 60),
  /** How long a handed-off order waits for the warehouse before an exception is opened. */
  STOCKFLOW_ORDER_FULFILMENT_WINDOW: DurationSeconds.default(2 * 3600),
});
export type EnvConfig = z.infer<typeof EnvConfig>;
