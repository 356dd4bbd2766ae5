import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { replenish, raiseException } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Run by the daily schedule: the day's run groups the low SKUs into one purchase suggestion per
 * supplier, and each open suggestion is held for the buyer as an exception, so ownership, SLAs
 * and escalation are the exceptions' own. A retried run of the same day raises nothing new: the
 * run is claimed by its day, and raising an open exception's subject again joins it.
 */
export async function replenishment(): Promise<{ runKey: string; raised: string[] }> {
  const run = await replenish({ at: new Date().toISOString() });
  const raised: string[] = [];
  for (const exception of run.toRaise) raised.push((await raiseException(exception)).workflowId);
  return { runKey: run.runKey, raised };
}
