import type { Client } from '@temporalio/client';
import type { ActivityDeps } from '../activities';
import type { Db } from '../db/connection';
import type { EnvConfig } from '../schemas/config';

/** What every worker's activities need, from the configuration: one place for `npm start` and `stockflow worker`. */
export function activityDepsFromConfig(
  config: EnvConfig,
  parts: { db: Db; client: Client; temporalUiUrl?: string; log?: (line: string) => void },
): ActivityDeps {
  const prefixed = (what: string) => (parts.log ? (line: string) => parts.log?.(`${what}: ${line}`) : undefined);
  return {
    db: parts.db,
    notifier: {
      namespace: config.TEMPORAL_NAMESPACE,
      webhookUrl: config.STOCKFLOW_NOTIFY_WEBHOOK_URL,
      temporalUiUrl: config.TEMPORAL_UI_URL ?? parts.temporalUiUrl,
      log: prefixed('notify'),
    },
    temporal: { client: parts.client, taskQueue: config.STOCKFLOW_TASK_QUEUE },
    fulfilment: { url: config.STOCKFLOW_FULFILMENT_URL, log: prefixed('fulfilment') },
  };
}
