import { WorkflowNotFoundError } from '@temporalio/client';
import { computeAbcClasses, countAccuracy, countTaskLines, findCountTask, listAbcClasses, listCountTasks, markPosted, recordCounts, type LineToPost } from '../db/counting';
import type { AbcClass } from '../domain/abc';
import { planSubmission } from '../domain/count-results';
import { Refusal, type RefusalCode } from '../domain/refusal';
import type { AbcEntry, AbcRun, AccuracyQuery, CountAccuracy, CountSubmission, CountSubmissionResult, CountTaskQuery, CountTaskView } from '../schemas/counting';
import { RESOLVED } from '../schemas/exceptions';
import { CycleCountOp } from '../schemas/stock';
import type { MovementOutcome } from '../workflows/stock-movement';
import type { Services } from './context';
import { decideException, exceptionState } from './exceptions';
import { startStockMovement } from './stock-movement';

/** ABC classes recomputed now, as the weekly schedule would. */
export function recomputeAbc(s: Services, at: Date): Promise<AbcRun> {
  return computeAbcClasses(s.db, at, s.counting);
}

export function getAbcClasses(s: Services, query: { abcClass?: AbcClass }): Promise<AbcEntry[]> {
  return listAbcClasses(s.db, query);
}

export function getCountTasks(s: Services, query: CountTaskQuery): Promise<CountTaskView[]> {
  return listCountTasks(s.db, query);
}

export function getCountTask(s: Services, id: number): Promise<CountTaskView> {
  return findCountTask(s.db, id);
}

export function getCountAccuracy(s: Services, query: AccuracyQuery): Promise<CountAccuracy> {
  return countAccuracy(s.db, query);
}

/**
 * A counter's figures for a count task. Refused up front, changing nothing, when a line cannot be
 * taken (unknown SKU, a recount by the first counter, a new figure for a counted line) or when the
 * counter is not entitled to the task's exception (owner, backup, escalation contact, assignee or
 * an approver); the exception's history records each accepted submission. Figures within tolerance
 * and recounts post as cycle counts; when every line has posted, the exception is closed by the
 * counter, stopping its SLA clock. A resend changes nothing and finishes a post left half done.
 */
export async function submitCounts(s: Services, id: number, submission: CountSubmission): Promise<CountSubmissionResult> {
  const { task, lines } = await countTaskLines(s.db, id);
  const steps = planSubmission(id, lines, submission.lines, submission.by);
  const counted = steps.filter((step) => step.action !== 'resend').length;
  if (counted > 0) {
    await decideOnTask(s, task, { action: 'comment', by: submission.by, reason: `counted ${counted} line(s) of count task ${id}` });
  }
  const recorded = await recordCounts(s.db, id, submission);
  const posted = await Promise.all(recorded.toPost.map((line) => postCount(s, task.location, task.taskKey, line)));
  const { done } = await markPosted(s.db, id, posted);
  // Asked of the exception itself, so a resend also closes an exception a crash left open.
  if (done && !RESOLVED.includes((await exceptionState(s.client, task.exceptionWorkflowId)).status)) {
    await decideOnTask(s, task, { action: 'approve', by: submission.by, reason: `every line of count task ${id} is counted and posted` });
  }
  return {
    task: await findCountTask(s.db, id),
    lines: submission.lines.map(({ sku }) => {
      const post = posted.find((p) => p.sku === sku);
      return post ? { sku, result: 'posted' as const, outcome: post.outcome } : { sku, result: 'recount_required' as const };
    }),
  };
}

/** The settled figure as an ordinary cycle count, through the stock movement workflow keyed by the line. */
async function postCount(s: Services, location: string, taskKey: string, line: LineToPost): Promise<{ sku: string; outcome: 'ok' | 'investigate' | 'blocked' }> {
  const op = CycleCountOp.parse({ kind: 'cycle_count', idempotencyKey: line.idempotencyKey, actor: line.by, sourceRef: taskKey, sku: line.sku, location, counted: line.counted });
  const outcome = (await (await startStockMovement(s.client, s.taskQueue, op)).result()) as MovementOutcome;
  if (outcome.status === 'refused') throw new Refusal(outcome.code as RefusalCode, `${line.sku}: ${outcome.message}`, outcome.field);
  const grade = outcome.result.cycleCount?.outcome;
  if (!grade) throw new Error(`cycle count ${line.idempotencyKey} answered without a grade`);
  return { sku: line.sku, outcome: grade };
}

async function decideOnTask(s: Services, task: CountTaskView, decision: { action: 'comment' | 'approve'; by: string; reason: string }): Promise<void> {
  const result = await decideException(s, task.exceptionWorkflowId, decision).catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) throw new Refusal('not_waiting', `count task ${task.id} is not held for its owner (no exception ${task.exceptionWorkflowId})`, 'id');
    throw error;
  });
  if (!result.accepted) throw new Refusal('decision_refused', `count task ${task.id}: ${result.refusal}`);
}
