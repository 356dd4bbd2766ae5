import type { Db } from '../db/connection';
import { createStockActivities } from './stock';

export interface ActivityDeps {
  db: Db;
}

/** Every activity the worker registers, built over its dependencies (one database pool per worker). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStockActivities(deps.db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
