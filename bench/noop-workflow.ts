import { proxyActivities } from '@temporalio/workflow';

/** The benchmark's baseline activity: nothing but the round trip through Temporal. */
export interface NoopActivities {
  noop(): Promise<void>;
}

const { noop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '30 seconds' });

/** As many activity calls as one order makes, one after another, doing nothing: the cost of the orchestration alone. */
export async function noopCalls(calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) await noop();
}
