import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { issueDecisionTicket } from '../db/decision-tickets';
import { getException } from '../db/exceptions';
import { replaceOwnership, getOwnership } from '../db/ownership';
import { Refusal } from '../domain/refusal';
import { RESOLVED, type DecisionInput, type ExceptionStatus as Status, type RaiseException, type RaiseExceptionInput } from '../schemas/exceptions';
import type { OwnershipConfig, OwnershipConfigInput } from '../schemas/ownership';
import type { Services } from './context';
import { decideUpdate, occurredSignal, stateQuery, type DecisionOutcome } from '../workflows/exception-messages';
import type { exceptionHold } from '../workflows/exception-hold';
import { workflowIds } from '../domain/keys';
import { ExceptionStatus, ExceptionType, OrderId, Sku, StockflowFlow, SupplierId } from '../workflows/search-attributes';

/**
 * Raises an exception: starts `exception/<type>/<subject>`, or, while one for the same subject is
 * still open, joins it (signal-with-start), so a repeated problem never opens a duplicate.
 */
export function raiseException(s: Pick<Services, 'client' | 'taskQueue'>, raise: RaiseException): Promise<WorkflowHandle<typeof exceptionHold>> {
  return s.client.workflow.signalWithStart<typeof exceptionHold, [RaiseExceptionInput]>('exceptionHold', {
    taskQueue: s.taskQueue,
    workflowId: workflowIds.exception(raise.type, raise.subject),
    args: [raise],
    signal: occurredSignal,
    signalArgs: [raise],
    typedSearchAttributes: [
      { key: StockflowFlow, value: 'exceptionHold' },
      { key: ExceptionType, value: raise.type },
      { key: ExceptionStatus, value: 'open' },
      ...(raise.sku ? [{ key: Sku, value: raise.sku }] : []),
      ...(raise.supplierId ? [{ key: SupplierId, value: raise.supplierId }] : []),
      ...(raise.orderId ? [{ key: OrderId, value: raise.orderId }] : []),
    ],
    staticSummary: `${raise.severity.toUpperCase()} ${raise.type}: ${raise.summary}`,
    staticDetails: raise.heldChange ? `Held change: ${JSON.stringify(raise.heldChange)}` : undefined,
  });
}

export type DecisionResult = { accepted: true; outcome: DecisionOutcome } | { accepted: false; refusal: string };

/**
 * Sends a decision as a Workflow Update, so a refusal (and its reason) comes back synchronously,
 * with a ticket that proves to the workflow it came through here (`decision.by` is already the
 * authenticated principal: api/access.ts).
 */
export async function decideException(s: Pick<Services, 'db' | 'client'>, workflowId: string, decision: DecisionInput): Promise<DecisionResult> {
  const handle = s.client.workflow.getHandle<typeof exceptionHold>(workflowId);
  const ticket = await issueDecisionTicket(s.db, { workflowId, by: decision.by, action: decision.action });
  try {
    return { accepted: true, outcome: await handle.executeUpdate(decideUpdate, { args: [{ ...decision, ticket }] }) };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      const cause = error.cause as { message?: string } | undefined;
      return { accepted: false, refusal: cause?.message ?? error.message };
    }
    throw error;
  }
}

/**
 * A person's decision on exception `id`, through the API: refused when there is no such exception,
 * when it is already resolved, or when the workflow's own checks refuse it (entitlement, evidence).
 */
export async function decideExceptionById(s: Services, id: number, decision: DecisionInput): Promise<DecisionOutcome> {
  const found = await getException(s.db, id);
  if (!found) throw new Refusal('not_found', `no exception ${id}`, 'id');
  if (RESOLVED.includes(found.exception.status as Status)) {
    throw new Refusal('already_resolved', `exception ${id} is already ${found.exception.status}`);
  }
  const result = await decideException(s, found.exception.workflowId, decision);
  if (!result.accepted) throw new Refusal('decision_refused', result.refusal);
  return result.outcome;
}

/** Replaces the ownership rules (owners are added or updated, never removed) and answers with those now in force. */
export async function replaceOwnershipRules(s: Services, config: OwnershipConfigInput): Promise<OwnershipConfig> {
  await replaceOwnership(s.db, config);
  return getOwnership(s.db);
}

export function exceptionState(client: Client, workflowId: string) {
  return client.workflow.getHandle<typeof exceptionHold>(workflowId).query(stateQuery);
}
