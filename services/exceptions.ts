import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { DecisionInput, RaiseException, RaiseExceptionInput } from '../schemas/exceptions';
import { decideUpdate, occurredSignal, stateQuery, type DecisionOutcome } from '../workflows/exception-messages';
import type { exceptionHold } from '../workflows/exception-hold';
import { workflowIds } from '../domain/keys';
import { ExceptionStatus, ExceptionType, OrderId, Sku, StockflowFlow, SupplierId } from '../workflows/search-attributes';

/**
 * Raises an exception: starts `exception/<type>/<subject>`, or, while one for the same subject is
 * still open, joins it (signal-with-start), so a repeated problem never opens a duplicate.
 */
export function raiseException(client: Client, taskQueue: string, raise: RaiseException): Promise<WorkflowHandle<typeof exceptionHold>> {
  return client.workflow.signalWithStart<typeof exceptionHold, [RaiseExceptionInput]>('exceptionHold', {
    taskQueue,
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

/** Sends a decision as a Workflow Update, so a refusal (and its reason) comes back synchronously. */
export async function decideException(client: Client, workflowId: string, decision: DecisionInput): Promise<DecisionResult> {
  const handle = client.workflow.getHandle<typeof exceptionHold>(workflowId);
  try {
    return { accepted: true, outcome: await handle.executeUpdate(decideUpdate, { args: [decision] }) };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      const cause = error.cause as { message?: string } | undefined;
      return { accepted: false, refusal: cause?.message ?? error.message };
    }
    throw error;
  }
}

export function exceptionState(client: Client, workflowId: string) {
  return client.workflow.getHandle<typeof exceptionHold>(workflowId).query(stateQuery);
}
