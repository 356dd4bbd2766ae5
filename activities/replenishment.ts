import type { Db } from '../db/connection';
import { runReplenishment } from '../db/replenishment';
import { suggestionException } from '../domain/replenishment-exceptions';
import type { RaiseExceptionInput } from '../schemas/exceptions';

/** Replenishment for the scheduled workflow: the day's run in one transaction, thin over db/replenishment.ts. */
export function createReplenishmentActivities(db: Db, windowDays: number) {
  return {
    /** The day's run as of `at`; answers with the exceptions to hold for the buyer, one per open suggestion. */
    async replenish(input: { at: string }): Promise<{ runKey: string; created: boolean; toRaise: RaiseExceptionInput[] }> {
      const run = await runReplenishment(db, new Date(input.at), windowDays);
      return { runKey: run.runKey, created: run.created, toRaise: run.suggestions.filter((s) => s.status === 'open').map(suggestionException) };
    },
  };
}
