import { allHandlersFinished, condition, continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PlannedLine } from '../domain/feed-rules';
import type { RaiseExceptionInput } from '../schemas/exceptions';
import { addCounts, emptyCounts } from '../domain/feed-counts';
import type { FeedCounts, FeedRules } from '../schemas/feeds';
import { exceptionDecidedSignal, type ExceptionDecided } from './exception-messages';
import { exceptionSubjects, idempotencyKeys } from '../domain/keys';

const { assessFeed, markFeed, raiseException } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const { applyFeedChunk } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export interface FeedIngestInput {
  feedPk: number;
  supplierId: string;
  feedId: string;
  rules: FeedRules;
  /** Carried across continue-as-new. */
  progress?: FeedProgress;
}

export interface FeedProgress {
  phase: 'assessing' | 'quarantined' | 'applying' | 'done' | 'discarded';
  lineCount: number;
  nextLine: number;
  counts: FeedCounts;
  override: boolean;
  locationCode: string;
  unmappedSkus: string[];
  exceptions: string[];
}

export type FeedSummary = FeedProgress & { supplierId: string; feedId: string };

export const feedProgressQuery = defineQuery<FeedProgress>('progress');

/** Chunks per run before continuing as new, well below Temporal's history limits. */
const CHUNKS_PER_RUN = 40;
/** An unmapped-SKU exception lists at most this many SKUs; the feed's lines record every one. */
const UNMAPPED_LISTED = 200;

/**
 * A supplier's stock feed, stored before this starts. Judge the whole feed first: a feed that
 * looks broken (too many negative or spiking lines) applies nothing and waits for a person. Then
 * apply it in chunks, each line exactly once: stale and duplicate lines are recorded and skipped,
 * malformed ones rejected with the reason, suspect ones held as exceptions for their owner.
 */
export async function supplierFeedIngest(input: FeedIngestInput): Promise<FeedSummary> {
  const progress: FeedProgress = input.progress ?? {
    phase: 'assessing',
    lineCount: 0,
    nextLine: 1,
    counts: emptyCounts(),
    override: false,
    locationCode: '',
    unmappedSkus: [],
    exceptions: [],
  };
  let decided: ExceptionDecided | undefined;
  setHandler(feedProgressQuery, () => progress);
  setHandler(exceptionDecidedSignal, (d) => {
    decided = d;
  });

  if (progress.phase === 'assessing' || progress.phase === 'quarantined') {
    const assessment = await assessFeed({ feedPk: input.feedPk, rules: input.rules });
    progress.lineCount = assessment.lineCount;
    progress.locationCode = assessment.locationCode;
    if (assessment.broken) {
      progress.phase = 'quarantined';
      await markFeed({ feedPk: input.feedPk, status: 'quarantined', summary: { assessment: assessment.counts } });
      const { workflowId } = await raiseException(quarantineException(input, assessment.counts, assessment.sample, assessment.locationCode));
      progress.exceptions.push(workflowId);
      await condition(() => decided !== undefined);
      if (decided?.status === 'rejected') {
        progress.phase = 'discarded';
        progress.counts.discarded = progress.lineCount;
        await markFeed({ feedPk: input.feedPk, status: 'discarded', summary: progress });
        return { ...progress, supplierId: input.supplierId, feedId: input.feedId };
      }
      progress.override = true;
    }
    progress.phase = 'applying';
    await markFeed({ feedPk: input.feedPk, status: 'processing' });
  }

  for (let chunks = 0; progress.nextLine <= progress.lineCount; chunks++) {
    if (chunks >= CHUNKS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof supplierFeedIngest>({ ...input, progress });
    }
    const toLine = Math.min(progress.nextLine + input.rules.chunkSize - 1, progress.lineCount);
    const chunk = await applyFeedChunk({ feedPk: input.feedPk, fromLine: progress.nextLine, toLine, rules: input.rules, override: progress.override });
    progress.counts = addCounts(progress.counts, chunk.counts);
    for (const line of chunk.held) {
      const { workflowId } = await raiseException(heldLineException(input, line, chunk.locationCode));
      progress.exceptions.push(workflowId);
    }
    for (const sku of chunk.unmappedSkus) if (!progress.unmappedSkus.includes(sku)) progress.unmappedSkus.push(sku);
    progress.nextLine = toLine + 1;
  }

  if (progress.unmappedSkus.length > 0) {
    const { workflowId } = await raiseException(unmappedException(input, progress.unmappedSkus));
    progress.exceptions.push(workflowId);
  }
  progress.phase = 'done';
  await markFeed({ feedPk: input.feedPk, status: 'applied', summary: progress });
  return { ...progress, supplierId: input.supplierId, feedId: input.feedId };
}

function heldLineException(input: FeedIngestInput, line: PlannedLine, locationCode: string): RaiseExceptionInput {
  return {
    type: 'supplier_feed_line',
    subject: exceptionSubjects.feedLine(input.supplierId, input.feedId, line.lineNo),
    severity: line.rule === 'negative' ? 'high' : 'medium',
    summary: `${input.supplierId} feed ${input.feedId}, line ${line.lineNo}: ${line.sku} ${line.reason}`,
    source: `supplier:${input.supplierId}`,
    sku: line.sku,
    location: locationCode,
    supplierId: input.supplierId,
    // Setting stock negative overrides a policy: whoever approves must say why.
    requiresEvidence: line.rule === 'negative',
    heldChange: {
      kind: 'set_on_hand',
      idempotencyKey: idempotencyKeys.approvedFeedLine(input.supplierId, input.feedId, line.lineNo),
      sku: line.sku as string,
      location: locationCode,
      quantity: line.quantity as number,
      sourceRef: input.feedId,
      actor: `supplier:${input.supplierId}`,
    },
    context: {
      feedId: input.feedId,
      lineNo: line.lineNo,
      supplierSku: line.supplierSku,
      sequence: line.sequence,
      rule: line.rule,
      diff: { lastKnown: line.lastQuantity ?? null, proposed: line.quantity },
    },
  };
}

function quarantineException(input: FeedIngestInput, counts: FeedCounts, sample: PlannedLine[], locationCode: string): RaiseExceptionInput {
  return {
    type: 'supplier_feed_quarantine',
    subject: exceptionSubjects.feed(input.supplierId, input.feedId),
    severity: 'critical',
    summary: `${input.supplierId} feed ${input.feedId} looks broken: ${counts.held} of ${counts.read} lines are negative or spiking; nothing was applied`,
    source: `supplier:${input.supplierId}`,
    supplierId: input.supplierId,
    location: locationCode,
    notifyWorkflowId: workflowInfo().workflowId,
    context: {
      feedId: input.feedId,
      counts,
      decision: 'approve applies the whole feed (spikes included); reject discards it and keeps the last known-good stock',
      diff: sample.map((l) => ({ line: l.lineNo, sku: l.sku, lastKnown: l.lastQuantity ?? null, proposed: l.quantity, reason: l.reason })),
    },
  };
}

function unmappedException(input: FeedIngestInput, skus: string[]): RaiseExceptionInput {
  return {
    type: 'missing_sku_mapping',
    subject: exceptionSubjects.feed(input.supplierId, input.feedId),
    severity: 'medium',
    summary: `${input.supplierId} feed ${input.feedId} has ${skus.length} supplier SKU(s) with no mapping to our catalogue`,
    source: `supplier:${input.supplierId}`,
    supplierId: input.supplierId,
    context: { feedId: input.feedId, unmappedSkus: skus.slice(0, UNMAPPED_LISTED), total: skus.length },
  };
}
