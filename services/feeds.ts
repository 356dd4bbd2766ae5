import { findFeed, storeFeed } from '../db/feeds';
import { FeedFormatError, parseCsvFeed } from '../domain/feed-parse';
import { Refusal } from '../domain/refusal';
import { FeedDocument } from '../schemas/feeds';
import { formatIssues } from '../schemas/issues';
import { SupplierId as SupplierIdKey, StockflowFlow } from '../workflows/search-attributes';
import { feedProgressQuery, type supplierFeedIngest } from '../workflows/supplier-feed-ingest';
import type { Services } from './context';
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
 * Temporal; the lines stay in Postgres. A body that is not a feed, a feed id already used for other
 * content, or a supplier that is unknown or archived is refused, and nothing is stored.
 */
export async function submitFeed(s: Services, submission: FeedSubmission): Promise<SubmittedFeed> {
  const envelope = readEnvelope(submission);
  const stored = await storeFeed(s.db, {
    supplierId: submission.supplierId,
    format: submission.format,
    body: submission.body,
    feedId: envelope.feedId,
    lineCount: envelope.lineCount,
    workflowIdFor: (feedId) => workflowIds.feed(submission.supplierId, feedId),
  });
  await startOrAttach(s.client, stored.workflowId, () =>
    s.client.workflow.start<typeof supplierFeedIngest>('supplierFeedIngest', {
      taskQueue: s.taskQueue,
      workflowId: stored.workflowId,
      args: [{ feedPk: stored.feedPk, supplierId: submission.supplierId, feedId: stored.feedId, rules: s.feedRules }],
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
  try {
    return envelopeOf(submission);
  } catch (error) {
    if (error instanceof FeedFormatError) throw new Refusal('invalid_feed', error.message);
    throw error;
  }
}

function envelopeOf(submission: FeedSubmission): { feedId?: string; lineCount: number } {
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

/** A feed with its status and summary, and live progress while it is being ingested. */
export async function feedStatus(s: Services, supplierId: string, feedId: string) {
  const feed = await findFeed(s.db, supplierId, feedId);
  if (!feed) throw new Refusal('not_found', `no feed "${feedId}" from ${supplierId}`, 'feedId');
  const workflowId = workflowIds.feed(supplierId, feedId);
  const finished = feed.status === 'applied' || feed.status === 'discarded';
  const progress = finished ? undefined : await s.client.workflow.getHandle(workflowId).query(feedProgressQuery).catch(() => undefined);
  return { supplierId, feedId, workflowId, ...feed, progress };
}
