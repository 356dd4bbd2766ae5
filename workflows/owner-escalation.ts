import { condition, getExternalWorkflowHandle, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Owner } from '../schemas/ownership';
import {
  clockAcknowledgedSignal,
  clockChangedSignal,
  clockReassignedSignal,
  clockResolvedSignal,
  type ClockReading,
} from './exception-messages';
import { EscalationLevel, StockflowFlow } from './search-attributes';

const { notifyOwner, recordExceptionEvent, findOwner } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface EscalationInput {
  exceptionId: number;
  exceptionWorkflowId: string;
  type: string;
  subject: string;
  summary: string;
  severity: string;
  /** Owner, backup, escalation contact: who is responsible at levels 0, 1 and 2. */
  chain: [Owner, Owner, Owner];
  ackSlaSeconds: number;
  resolutionSlaSeconds: number;
}

/** Escalation steps are numbered apart from the decisions exceptionHold records. */
export const ESCALATION_SEQ_BASE = 10_000;
/** Notices are delivered once per number: 0–2 are the escalation levels, 100 + n the n-th reassignment. */
const REASSIGNMENT_NOTICE_BASE = 100;

/**
 * The SLA clock of one exception. Whoever is responsible gets the acknowledgement SLA to
 * acknowledge and, once acknowledged, the resolution SLA to resolve, counted from when they
 * became responsible. When a window passes, responsibility moves one step up the chain — owner,
 * backup, escalation contact — and the new person is told, exactly once. The windows are durable
 * timers: restarting workers or the Temporal server moves no deadline.
 */
export async function ownerEscalation(input: EscalationInput): Promise<{ level: number }> {
  upsertSearchAttributes([{ key: StockflowFlow, value: 'ownerEscalation' }]);
  let acknowledged = false;
  let resolved = false;
  let level = 0;
  let assignee: Owner = input.chain[0];
  let responsibleSince = Date.now();

  setHandler(clockAcknowledgedSignal, () => {
    acknowledged = true;
  });
  setHandler(clockResolvedSignal, () => {
    resolved = true;
  });
  let reassignTo: string | undefined;
  setHandler(clockReassignedSignal, ({ assigneeId }) => {
    reassignTo = assigneeId;
  });

  let reassignments = 0;
  await tell(input, 0, assignee, 'assigned to you');

  while (!resolved) {
    if (reassignTo) {
      assignee = (await findOwner(reassignTo)) ?? assignee;
      reassignTo = undefined;
      responsibleSince = Date.now();
      reassignments += 1;
      await tell(input, REASSIGNMENT_NOTICE_BASE + reassignments, assignee, 'reassigned to you');
    }
    const phase = acknowledged ? 'resolution' : 'acknowledgement';
    const windowSeconds = acknowledged ? input.resolutionSlaSeconds : input.ackSlaSeconds;
    const canEscalate = level < input.chain.length - 1;
    const dueAt = responsibleSince + windowSeconds * 1000;
    await reportClock({ level, assigneeId: assignee.id, dueAt: canEscalate ? new Date(dueAt).toISOString() : undefined });

    const wasAcknowledged = acknowledged;
    const somethingChanged = () => resolved || acknowledged !== wasAcknowledged || reassignTo !== undefined;
    if (!canEscalate) {
      await condition(somethingChanged);
      continue;
    }
    if (await condition(somethingChanged, Math.max(dueAt - Date.now(), 0))) continue;

    level += 1;
    assignee = input.chain[level];
    responsibleSince = Date.now();
    upsertSearchAttributes([{ key: EscalationLevel, value: level }]);
    const reason = `not ${phase === 'acknowledgement' ? 'acknowledged' : 'resolved'} within ${formatSeconds(windowSeconds)}`;
    await recordExceptionEvent({
      exceptionId: input.exceptionId,
      workflowId: input.exceptionWorkflowId,
      seq: ESCALATION_SEQ_BASE + level,
      action: 'escalate',
      actor: 'sla-clock',
      outcome: 'accepted',
      reason,
      details: { level, to: assignee.id, phase },
      changes: { assigneeId: assignee.id, escalationLevel: level },
    });
    await tell(input, level, assignee, reason);
  }
  return { level };
}

async function tell(input: EscalationInput, notice: number, recipient: Owner, reason: string): Promise<void> {
  await notifyOwner({
    exceptionId: input.exceptionId,
    workflowId: input.exceptionWorkflowId,
    notice,
    recipient,
    reason,
    type: input.type,
    subject: input.subject,
    summary: input.summary,
    severity: input.severity,
  });
}

async function reportClock(reading: ClockReading): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent) return;
  try {
    await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(clockChangedSignal, reading);
  } catch {
    // The exception was resolved and closed in the meantime: nobody is left to tell.
  }
}

export function formatSeconds(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
