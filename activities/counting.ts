import type { Db } from '../db/connection';
import { computeAbcClasses, planCountTasks } from '../db/counting';
import { countTaskException } from '../domain/count-task-exception';
import type { RaiseExceptionInput } from '../schemas/exceptions';
import type { AbcRun, CountingRules } from '../schemas/counting';

/** The counting programme's scheduled work, thin over db/counting.ts. */
export function createCountingActivities(db: Db, rules: CountingRules) {
  return {
    /** ABC classes as of `at`, over the configured window and shares. */
    async classifyAbc(input: { at: string }): Promise<AbcRun> {
      return computeAbcClasses(db, new Date(input.at), rules);
    },

    /** The day's count tasks, one per location; answers with the exceptions that hold them for the counting owner. */
    async planCounts(input: { day: string }): Promise<RaiseExceptionInput[]> {
      return (await planCountTasks(db, input.day, rules)).map(countTaskException);
    },
  };
}
