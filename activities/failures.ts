import { ApplicationFailure, ApplicationFailureCategory, TemporalFailure } from '@temporalio/common';
import { ZodError } from 'zod';
import { pgErrorOf, StockRefusal } from '../db/errors';
import { describeIssues } from '../schemas/issues';

/**
 * The activity failure rule, in one place (activities/index.ts applies it to every activity):
 *
 * - a business refusal (StockRefusal: out of stock, unknown SKU…) is final and expected: non-retryable
 *   and BENIGN, so the worker logs it at DEBUG and the workflow turns it into an outcome;
 * - input that fails its zod schema, and Postgres data exceptions (SQLSTATE class 22) and integrity
 *   violations (class 23), fail the same way on every attempt: non-retryable, and logged loudly;
 * - every other Postgres error retries: connection (08), serialization and deadlock (40001, 40P01),
 *   insufficient resources (53), shutdown (57P01–57P03), and unrecognised classes, which a deployed
 *   fix or migration can cure. It is named by its SQLSTATE rather than Drizzle's "Failed query: …
 *   params: …", which would put the query's values into the workflow history;
 * - anything else (network errors, timeouts, failures the activity built itself) is left as it is:
 *   Temporal retries it unless it says otherwise.
 */

/** SQLSTATE classes no retry can fix: the same statement on the same data fails the same way. */
const FINAL_CLASSES = new Set(['22', '23']);

const CLASS_NAMES: Record<string, string> = {
  '08': 'connection_exception',
  '22': 'data_exception',
  '23': 'integrity_constraint_violation',
  '40': 'transaction_rollback',
  '53': 'insufficient_resources',
  '57': 'operator_intervention',
};

/** What an activity throws for `error`, by the rule above. */
export function activityFailureOf(error: unknown): unknown {
  if (error instanceof TemporalFailure) return error;
  if (error instanceof StockRefusal) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      nonRetryable: true,
      category: ApplicationFailureCategory.BENIGN,
      details: [{ field: error.field }],
    });
  }
  if (error instanceof ZodError) {
    const issues = describeIssues(error);
    return ApplicationFailure.create({
      type: 'invalid_input',
      message: issues.map((i) => `${i.field}: ${i.reason}`).join('; '),
      nonRetryable: true,
      details: [{ issues }],
    });
  }
  const pg = pgErrorOf(error);
  if (pg?.code) {
    const { message, detail } = pg as { message?: string; detail?: string };
    const sqlClass = pg.code.slice(0, 2);
    return ApplicationFailure.create({
      type: `postgres_${CLASS_NAMES[sqlClass] ?? 'error'}_${pg.code}`,
      message: [`SQLSTATE ${pg.code}: ${message ?? 'no message'}`, detail].filter(Boolean).join('. '),
      nonRetryable: FINAL_CLASSES.has(sqlClass),
      details: [{ sqlstate: pg.code, constraint: pg.constraint_name }],
      // The driver's error keeps the stack; its message is the server's, without the query's values.
      cause: pg instanceof Error ? pg : undefined,
    });
  }
  return error;
}

type Activity = (...args: never[]) => Promise<unknown>;

/** The same activities, each throwing by the failure rule: applied once over all of them, so none can forget it. */
export function withFailureRule<A extends Record<string, Activity>>(activities: A): A {
  const wrapped = Object.entries(activities).map(([name, activity]) => [
    name,
    async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw activityFailureOf(error);
      }
    },
  ]);
  return Object.fromEntries(wrapped) as A;
}
