import type { FeedCounts } from '../schemas/feeds';

/** A feed's tallies at zero: every outcome and the lines read. */
export function emptyCounts(): FeedCounts {
  return { read: 0, applied: 0, stale: 0, duplicate: 0, held: 0, rejected: 0, unmapped: 0, discarded: 0 };
}

export function addCounts(a: FeedCounts, b: FeedCounts): FeedCounts {
  const sum = emptyCounts();
  for (const key of Object.keys(sum) as (keyof FeedCounts)[]) sum[key] = a[key] + b[key];
  return sum;
}
