import type { Db } from '../db/connection';
import { createExceptionActivities } from './exceptions';
import { createNotifyActivities, type NotifierConfig } from './notify';
import { createRaiseActivities, type TemporalDeps } from './raise';
import { createStockActivities } from './stock';

export interface ActivityDeps {
  db: Db;
  notifier?: NotifierConfig;
  /** For activities that start or signal workflows (raising exceptions). */
  temporal?: TemporalDeps;
}

/** Every activity the worker registers, built over its dependencies (one database pool per worker). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStockActivities(deps.db),
    ...createExceptionActivities(deps.db),
    ...createNotifyActivities(deps.db, deps.notifier ?? { namespace: 'default' }),
    ...createRaiseActivities(deps.temporal),
  };
}

export type Activities = ReturnType<typeof createActivities>;
