import type { Db } from '../db/connection';
import { createChannelActivities } from './channels';
import { createExceptionActivities } from './exceptions';
import { withFailureRule } from './failures';
import { createFeedActivities } from './feeds';
import { createNotifyActivities, type NotifierConfig } from './notify';
import { createOrderActivities, type FulfilmentConfig } from './orders';
import { createRaiseActivities, type TemporalDeps } from './raise';
import { createReconciliationActivities } from './reconciliation';
import { createStockActivities } from './stock';

export interface ActivityDeps {
  db: Db;
  notifier?: NotifierConfig;
  /** For activities that start or signal workflows (raising exceptions). */
  temporal?: TemporalDeps;
  /** Where paid orders are handed to the warehouse. */
  fulfilment?: FulfilmentConfig;
}

/**
 * Every activity the worker registers, built over its dependencies (one database pool per worker),
 * each failing by the one failure rule of activities/failures.ts.
 */
export function createActivities(deps: ActivityDeps) {
  return withFailureRule({
    ...createStockActivities(deps.db),
    ...createExceptionActivities(deps.db),
    ...createNotifyActivities(deps.db, deps.notifier ?? { namespace: 'default' }),
    ...createRaiseActivities(deps.temporal),
    ...createOrderActivities(deps.db, deps.fulfilment ?? {}),
    ...createReconciliationActivities(deps.db),
    ...createFeedActivities(deps.db),
    ...createChannelActivities(deps.db),
  });
}

export type Activities = ReturnType<typeof createActivities>;
