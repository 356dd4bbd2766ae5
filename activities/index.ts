import type { Db } from '../db/connection';
import { createCatalogueImportActivities } from './catalogue-import';
import type { SourceSecrets, UiDecisions } from '../schemas/identity';
import type { AlertRules } from '../schemas/alerts';
import { createAlertActivities } from './alerts';
import { createChannelActivities } from './channels';
import { createCountingActivities } from './counting';
import { createExceptionActivities } from './exceptions';
import { withFailureRule } from './failures';
import { createFeedActivities } from './feeds';
import { createNotifyActivities, type NotifierConfig } from './notify';
import { createOrderActivities, type FulfilmentConfig } from './orders';
import { createRaiseActivities, type TemporalDeps } from './raise';
import { createReconciliationActivities } from './reconciliation';
import { createPurchaseOrderActivities } from './purchase-orders';
import { createReplenishmentActivities } from './replenishment';
import { DEFAULT_CONFIG, countingRulesOf } from '../schemas/config';
import type { CountingRules } from '../schemas/counting';
import { createStockActivities } from './stock';

export interface ActivityDeps {
  db: Db;
  notifier?: NotifierConfig;
  /** For activities that start or signal workflows (raising exceptions). */
  temporal?: TemporalDeps;
  /** Where paid orders are handed to the warehouse. */
  fulfilment?: FulfilmentConfig;
  /** Whether exception decisions that did not come through the API (Temporal UI signals) are accepted. */
  uiDecisions?: UiDecisions;
  /** KPI thresholds the alert schedule checks (configuration: STOCKFLOW_ALERTS). */
  alerts?: AlertRules;
  /** Days of demand a dynamic reorder policy without its own window measures (STOCKFLOW_REPLENISHMENT_WINDOW_DAYS). */
  replenishmentWindowDays?: number;
  /** Per-source signing secrets: a supplier's signs the purchase orders sent to its order webhook. */
  sourceSecrets?: SourceSecrets;
  /** The fallback signing secret (STOCKFLOW_WEBHOOK_SECRET). */
  webhookSecret?: string;
  /** ABC shares and window, count frequencies (STOCKFLOW_ABC_SHARES, STOCKFLOW_ABC_WINDOW_DAYS, STOCKFLOW_COUNT_FREQUENCY_DAYS). */
  counting?: CountingRules;
}

/**
 * Every activity the worker registers, built over its dependencies (one database pool per worker),
 * each failing by the one failure rule of activities/failures.ts.
 */
export function createActivities(deps: ActivityDeps) {
  return withFailureRule({
    ...createStockActivities(deps.db),
    ...createExceptionActivities(deps.db, deps.uiDecisions),
    ...createNotifyActivities(deps.db, deps.notifier ?? { namespace: 'default' }),
    ...createRaiseActivities(deps.temporal),
    ...createOrderActivities(deps.db, deps.fulfilment ?? {}),
    ...createReconciliationActivities(deps.db),
    ...createFeedActivities(deps.db),
    ...createCatalogueImportActivities(deps.db),
    ...createAlertActivities(deps.db, deps.alerts ?? []),
    ...createChannelActivities(deps.db),
    ...createReplenishmentActivities(deps.db, deps.replenishmentWindowDays ?? DEFAULT_CONFIG.STOCKFLOW_REPLENISHMENT_WINDOW_DAYS),
    ...createPurchaseOrderActivities(deps.db, { sourceSecrets: deps.sourceSecrets, webhookSecret: deps.webhookSecret }),
    ...createCountingActivities(deps.db, deps.counting ?? countingRulesOf(DEFAULT_CONFIG)),
  });
}

export type Activities = ReturnType<typeof createActivities>;
