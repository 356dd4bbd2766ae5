import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AbcRun } from '../schemas/counting';

const { classifyAbc, planCounts, raiseException } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Run by the weekly schedule: every active SKU's ABC class by revenue, which sets how often it is counted. */
export async function abcClassification(): Promise<AbcRun> {
  return classifyAbc({ at: new Date().toISOString() });
}

/**
 * Run by the schedule each working day (or for a named day): the day's count task of each location
 * is made and held for the counting owner as an exception, so its SLA and escalation are the
 * exceptions' own. A rerun makes no task twice, and raising an open task's subject again joins it.
 */
export async function countPlanning(input: { day?: string } = {}): Promise<{ day: string; raised: string[] }> {
  const day = input.day ?? new Date().toISOString().slice(0, 10);
  const raised: string[] = [];
  for (const task of await planCounts({ day })) raised.push((await raiseException(task)).workflowId);
  return { day, raised };
}
