import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionInput, ExceptionState, RaiseExceptionInput } from '../schemas/exceptions';

/**
 * The messages of the exception flows, defined once for the workflows, the API and the CLI.
 * Each decision signal takes `{ "by": "<owner id>", "reason": "…" }` (plus `evidence` for an
 * approval that overrides a policy, `to` for a reassignment), as typed into the UI's Send Signal.
 */
export interface DecisionPayload {
  by: string;
  reason?: string;
  evidence?: string;
  to?: string;
}

export const acknowledgeSignal = defineSignal<[DecisionPayload]>('acknowledge');
export const approveSignal = defineSignal<[DecisionPayload]>('approve');
export const rejectSignal = defineSignal<[DecisionPayload]>('reject');
export const reassignSignal = defineSignal<[DecisionPayload]>('reassign');
export const commentSignal = defineSignal<[DecisionPayload]>('comment');

/** The same exception raised again while it is open: joins it instead of opening a duplicate. */
export const occurredSignal = defineSignal<[RaiseExceptionInput]>('occurred');

export interface DecisionOutcome {
  accepted: boolean;
  status: ExceptionState['status'];
  refusal?: string;
}

/** A decision as the API sends it: with the ticket (db/decision-tickets.ts) that proves it came through the API. */
export type TicketedDecision = DecisionInput & { ticket?: string };

/** A decision answered synchronously: refused decisions fail the update with the reason. */
export const decideUpdate = defineUpdate<DecisionOutcome, [TicketedDecision]>('decide');

export const stateQuery = defineQuery<ExceptionState>('state');

/** From exceptionHold to its SLA clock. */
export const clockAcknowledgedSignal = defineSignal('clockAcknowledged');
export const clockReassignedSignal = defineSignal<[{ assigneeId: string }]>('clockReassigned');
export const clockResolvedSignal = defineSignal('clockResolved');

/** From the SLA clock back to exceptionHold, so the UI's search attributes follow the clock. */
export interface ClockReading {
  level: number;
  assigneeId: string;
  dueAt?: string;
}
export const clockChangedSignal = defineSignal<[ClockReading]>('clockChanged');

/** To the workflow that raised an exception and waits on it (RaiseException.notifyWorkflowId). */
export interface ExceptionDecided {
  exceptionWorkflowId: string;
  status: 'approved' | 'rejected';
  by: string;
  reason?: string;
}
export const exceptionDecidedSignal = defineSignal<[ExceptionDecided]>('exceptionDecided');
