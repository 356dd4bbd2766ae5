import { allHandlersFinished, condition, defineUpdate, proxyLocalActivities, setHandler } from '@temporalio/workflow';

/** The design the flash-sale bench weighs the checkout against: the answer from an update of the order's workflow. */
export interface UpdateWithStartActivities {
  /** The ledger's reserve statement; true when the unit was reserved. */
  reserveUnit(idempotencyKey: string, sku: string): Promise<boolean>;
}

export const placeUpdate = defineUpdate<boolean, [string, string]>('place');

const { reserveUnit } = proxyLocalActivities<UpdateWithStartActivities>({ startToCloseTimeout: '30 seconds' });

/** Started by Update-With-Start; the first update reserves (a local activity) and every update answers with that outcome. */
export async function placedByUpdate(): Promise<boolean> {
  let answer: Promise<boolean> | undefined;
  setHandler(placeUpdate, (key, sku) => (answer ??= reserveUnit(key, sku)));
  await condition(() => answer !== undefined);
  const reserved = await answer;
  await condition(allHandlersFinished);
  return reserved as boolean;
}
