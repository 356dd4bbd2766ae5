import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { checkKpiAlerts, raiseException, sendOwnerDigests } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Run by a schedule: each KPI over its configured threshold opens an exception for its owner, or
 * joins the one already open for the same rule, so a breach that lasts is one exception.
 */
export async function kpiAlertCheck(): Promise<{ raised: string[] }> {
  const breaches = await checkKpiAlerts();
  const raised: string[] = [];
  for (const breach of breaches) raised.push((await raiseException(breach)).workflowId);
  return { raised };
}

/** Run by a daily schedule: each owner with something open, breached or changed hears about it once. */
export async function ownerDigest(): Promise<{ sent: number }> {
  return sendOwnerDigests({ at: new Date().toISOString() });
}
