import type { Client } from '@temporalio/client';
import type { Database } from '../../db/connection';
import { waitFor } from '../../runtime/wait';

/**
 * Attempts an activity may take before it counts as retrying forever. Our retry policies start at
 * 0.5–1 s and double, so a fourth attempt starts within 4–8 s of the first: an error that no
 * retry can fix is past it well before any deadline below.
 */
const MAX_ATTEMPTS = 3;

export interface PendingActivity {
  workflowId: string;
  workflowType: string;
  activityType: string;
  attempt: number;
  lastFailure: string;
}

/** The message of the deepest cause: the database's own words rather than the query that failed. */
function innermostMessage(failure: { message?: string | null; cause?: unknown } | null | undefined): string {
  let message = '';
  for (let f = failure; f; f = f.cause as typeof failure) message = f.message ?? message;
  return message;
}

async function pendingActivitiesOf(client: Client, workflowId: string, runId?: string): Promise<{ running: boolean; pending: PendingActivity[] }> {
  const description = await client.workflow.getHandle(workflowId, runId).describe();
  const pending = (description.raw.pendingActivities ?? []).map((activity) => ({
    workflowId,
    workflowType: description.type,
    activityType: activity.activityType?.name ?? '?',
    attempt: activity.attempt ?? 0,
    lastFailure: innermostMessage(activity.lastFailure),
  }));
  return { running: description.status.name === 'RUNNING', pending };
}

/** Activities pending right now in the running workflows of a task queue. */
async function pendingActivities(client: Client, taskQueue: string): Promise<PendingActivity[]> {
  const pending: PendingActivity[] = [];
  for await (const workflow of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
    pending.push(...(await pendingActivitiesOf(client, workflow.workflowId, workflow.runId)).pending);
  }
  return pending;
}

const retrying = (activity: PendingActivity) => activity.attempt > MAX_ATTEMPTS;

/**
 * Waits until every activity of the task queue has finished or is visibly retrying forever
 * (attempt > MAX_ATTEMPTS), and returns the ones that are; `unsettled` lists what was still
 * pending with few attempts when the deadline passed.
 */
export async function activitiesRetryingForever(client: Client, taskQueue: string, timeoutMs: number): Promise<{ retrying: PendingActivity[]; unsettled: PendingActivity[] }> {
  try {
    const settled = await waitFor(
      'every activity to finish or fail for good',
      async () => {
        const pending = await pendingActivities(client, taskQueue);
        return pending.every(retrying) ? pending : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
    return { retrying: settled, unsettled: [] };
  } catch {
    const pending = await pendingActivities(client, taskQueue);
    return { retrying: pending.filter(retrying), unsettled: pending.filter((a) => !retrying(a)) };
  }
}

export type Settlement = { state: 'closed' } | { state: 'retrying'; activity: PendingActivity };

/** Waits until one workflow has closed or one of its activities is past MAX_ATTEMPTS. */
export function settlementOf(client: Client, workflowId: string, timeoutMs = 30_000): Promise<Settlement> {
  return waitFor(
    `${workflowId} to close or to show an activity retrying forever`,
    async (): Promise<Settlement | undefined> => {
      const { running, pending } = await pendingActivitiesOf(client, workflowId);
      const stuck = pending.find(retrying);
      if (stuck) return { state: 'retrying', activity: stuck };
      return running ? undefined : { state: 'closed' };
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** A feed that is still `received` or `processing` though nothing is working on it any more. */
export interface StuckFeed {
  supplierId: string;
  feedId: string;
  status: string;
  workflowId: string;
  why: string;
}

const UNFINISHED = ['received', 'processing'];

/**
 * Waits until every stored feed has an outcome (applied, quarantined, discarded) or is stuck:
 * unfinished while its workflow has closed or retries an activity forever. Returns the stuck ones,
 * and at the deadline the ones still unfinished.
 */
export async function feedsWithoutOutcome(database: Database, client: Client, timeoutMs: number): Promise<StuckFeed[]> {
  const check = async () => {
    const feeds = await database.sql`SELECT supplier_id, feed_id, status, workflow_id FROM supplier_feeds WHERE status = ANY(${UNFINISHED}) ORDER BY id`;
    const verdicts = await Promise.all(
      feeds.map(async (feed) => {
        const { running, pending } = await pendingActivitiesOf(client, feed.workflow_id);
        const stuck = pending.find(retrying);
        const why = stuck ? `${stuck.activityType} attempt ${stuck.attempt}: ${stuck.lastFailure}` : running ? undefined : 'its workflow has closed';
        return { supplierId: feed.supplier_id, feedId: feed.feed_id, status: feed.status, workflowId: feed.workflow_id, why };
      }),
    );
    return { verdicts, settled: verdicts.every((v) => v.why !== undefined) };
  };
  try {
    const { verdicts } = await waitFor('every feed to reach an outcome', async () => {
      const result = await check();
      return result.settled ? result : undefined;
    }, { timeoutMs, intervalMs: 250 });
    return verdicts as StuckFeed[];
  } catch {
    const { verdicts } = await check();
    return verdicts.map((v) => ({ ...v, why: v.why ?? `still ${v.status} at the deadline` }));
  }
}
