import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import { storeFeed } from '../db/feeds';
import { FeedFormatError, parseCsvFeed } from '../domain/feed-parse';
import { FeedDocument, type FeedRules } from '../schemas/feeds';
import { formatIssues } from '../schemas/issues';
import { SupplierId as SupplierIdKey, StockflowFlow } from '../workflows/search-attributes';
import type { supplierFeedIngest } from '../workflows/supplier-feed-ingest';
import { startOrAttach } from './outcome';
import { workflowIds } from '../domain/keys';

export interface FeedSubmission {
  supplierId: string;
  format: 'csv' | 'json';
  body: string;
  /** For CSV, which has no envelope; JSON feeds may carry `feedId` themselves. */
  feedId?: string;
}

export interface SubmittedFeed {
  workflowId: string;
  feedId: string;
  lines: number;
  /** False when this feed had been received before: nothing new was started. */
  new: boolean;
}

/**
 * Stores the feed durably, then starts (or finds) its workflow. Only a reference travels through
 * Temporal; the lines stay in Postgres. Throws FeedFormatError for a body that is not a feed.
 */
export async function submitFeed(db: Db, client: Client, taskQueue: string, rules: FeedRules, submission: FeedSubmission): Promise<SubmittedFeed> {
  const envelope = readEnvelope(submission);
  const stored = await storeFeed(db, {
    supplierId: submission.supplierId,
    format: submission.format,
    body: submission.body,
    feedId: envelope.feedId,
    lineCount: envelope.lineCount,
    workflowIdFor: (feedId) => workflowIds.feed(submission.supplierId, feedId),
  });
  await startOrAttach(client, stored.workflowId, () =>
    client.workflow.start<typeof supplierFeedIngest>('supplierFeedIngest', {
      taskQueue,
      workflowId: stored.workflowId,
      args: [{ feedPk: stored.feedPk, supplierId: submission.supplierId, feedId: stored.feedId, rules }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: StockflowFlow, value: 'supplierFeedIngest' },
        { key: SupplierIdKey, value: submission.supplierId },
      ],
      staticSummary: `${submission.supplierId} ${submission.format.toUpperCase()} feed ${stored.feedId}: ${envelope.lineCount} lines`,
    }),
  );
  return { workflowId: stored.workflowId, feedId: stored.feedId, lines: envelope.lineCount, new: stored.created };
}

function readEnvelope(submission: FeedSubmission): { feedId?: string; lineCount: number } {
  if (submission.format === 'csv') return { feedId: submission.feedId, lineCount: parseCsvFeed(submission.body).lines.length };
  let json: unknown;
  try {
    json = JSON.parse(submission.body);
  } catch (error) {
    throw new FeedFormatError(`body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = FeedDocument.safeParse(json);
  if (!parsed.success) throw new FeedFormatError(formatIssues(parsed.error));
  return { feedId: parsed.data.feedId ?? submission.feedId, lineCount: parsed.data.lines.length };
}
