import { workflowIds } from '../domain/keys';
import {
  allHandlersFinished,
  ApplicationFailure,
  type ChildWorkflowHandle,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { decisionProblems } from '../domain/decision-shape';
import type { Decision, DecisionInput, DecisionPath, DecisionRecord, ExceptionState, ExceptionStatus, RaiseExceptionInput } from '../schemas/exceptions';
import type { OperationResult } from '../schemas/stock';
import {
  acknowledgeSignal,
  approveSignal,
  clockAcknowledgedSignal,
  clockChangedSignal,
  clockReassignedSignal,
  clockResolvedSignal,
  commentSignal,
  decideUpdate,
  exceptionDecidedSignal,
  occurredSignal,
  reassignSignal,
  rejectSignal,
  stateQuery,
  type DecisionOutcome,
  type DecisionPayload,
  type ExceptionDecided,
} from './exception-messages';
import { ESCALATION_SEQ_BASE, ownerEscalation } from './owner-escalation';
import { refusalOf } from './refusal';
import {
  EscalationLevel,
  ExceptionStatus as ExceptionStatusKey,
  ExceptionType,
  OrderId,
  OwnerId,
  Sku,
  SlaDueAt,
  StockflowFlow,
  SupplierId,
} from './search-attributes';

const { openException, recordExceptionEvent, findOwner, applyStockOperation, checkDecisionOrigin } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface ExceptionOutcome {
  exceptionId: number;
  status: ExceptionStatus;
  decidedBy?: string;
  reason?: string;
  applied?: OperationResult;
}

/**
 * One exception: a change no rule could decide. It is recorded and held, given to the owner the
 * ownership rules name, timed by an ownerEscalation child, and applied (exactly once) or
 * discarded when an entitled person decides. Every decision, accepted or refused, is recorded.
 */
export async function exceptionHold(raise: RaiseExceptionInput): Promise<ExceptionOutcome> {
  const { workflowId } = workflowInfo();
  const held = new ExceptionCase(raise);

  setHandler(stateQuery, () => held.snapshot());
  setHandler(occurredSignal, (again) => held.occurred(again));
  // Handlers return their work so `allHandlersFinished` waits for decisions still queued.
  const signalled = (action: Decision['action']) => async (payload: DecisionPayload) => {
    await held.serially(() => held.decide({ ...payload, action } as DecisionInput, 'signal'));
  };
  setHandler(acknowledgeSignal, signalled('acknowledge'));
  setHandler(approveSignal, signalled('approve'));
  setHandler(rejectSignal, signalled('reject'));
  setHandler(reassignSignal, signalled('reassign'));
  setHandler(commentSignal, signalled('comment'));
  setHandler(
    decideUpdate,
    async ({ ticket, ...decision }) => {
      const outcome = await held.serially(() => held.decide(decision as DecisionInput, 'update', ticket));
      if (!outcome.accepted) throw ApplicationFailure.create({ type: 'decision_refused', message: outcome.refusal, nonRetryable: true });
      return outcome;
    },
    { validator: validateDecisionShape },
  );
  setHandler(clockChangedSignal, (reading) => held.clockChanged(reading));

  await held.open(workflowId);
  await condition(() => held.isResolved());
  await held.stopClock();
  await condition(allHandlersFinished);
  return held.outcome();
}

/** Refuses malformed decisions before they enter history; entitlement is checked (and audited) in the handler. */
function validateDecisionShape(decision: DecisionInput): void {
  const problems = decisionProblems(decision);
  if (problems.length > 0) throw new Error(problems.join('; '));
}

class ExceptionCase {
  private state?: ExceptionState;
  private approverIds: string[] = [];
  private seq = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private clock?: ChildWorkflowHandle<typeof ownerEscalation>;
  private openingSignalSeen = false;
  private applied?: OperationResult;

  constructor(private readonly raise: RaiseExceptionInput) {}

  async open(workflowId: string): Promise<void> {
    const opened = await openException(this.raise);
    const r = opened.responsibility;
    this.approverIds = r.approverIds;
    this.state = {
      exceptionId: opened.exceptionId,
      workflowId,
      type: this.raise.type,
      subject: this.raise.subject,
      severity: this.raise.severity ?? 'medium',
      summary: this.raise.summary,
      status: 'open',
      ownerId: r.owner.id,
      backupId: r.backup.id,
      escalationId: r.escalation.id,
      assigneeId: r.owner.id,
      escalationLevel: 0,
      occurrences: this.state?.occurrences ?? 1,
      heldChange: this.raise.heldChange as ExceptionState['heldChange'],
      requiresEvidence: this.raise.requiresEvidence ?? false,
      context: this.raise.context ?? {},
      history: [],
    };
    upsertSearchAttributes([
      { key: StockflowFlow, value: 'exceptionHold' },
      { key: ExceptionType, value: this.raise.type },
      ...(this.raise.sku ? [{ key: Sku, value: this.raise.sku }] : []),
      ...(this.raise.supplierId ? [{ key: SupplierId, value: this.raise.supplierId }] : []),
      ...(this.raise.orderId ? [{ key: OrderId, value: this.raise.orderId }] : []),
    ]);
    this.publish();
    this.clock = await startChild(ownerEscalation, {
      workflowId: workflowIds.slaClock(workflowId),
      args: [
        {
          exceptionId: opened.exceptionId,
          exceptionWorkflowId: workflowId,
          type: this.raise.type,
          subject: this.raise.subject,
          summary: this.raise.summary,
          severity: this.state.severity,
          chain: [r.owner, r.backup, r.escalation],
          ackSlaSeconds: r.ackSlaSeconds,
          resolutionSlaSeconds: r.resolutionSlaSeconds,
        },
      ],
      staticSummary: `SLA clock of ${this.raise.type} exception ${this.raise.subject}`,
    });
  }

  /**
   * The SLA clock, once started: a decision can arrive while the child is still starting, and an
   * acknowledgement or reassignment the clock never hears of would escalate anyway. Runs recorded
   * before this wait replay without it.
   */
  private async startedClock(): Promise<ChildWorkflowHandle<typeof ownerEscalation> | undefined> {
    if (patched('decisions-wait-for-sla-clock')) await condition(() => this.clock !== undefined);
    return this.clock;
  }

  /** Runs decisions one at a time, in arrival order, whatever channel they came through. */
  serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async decide(decision: DecisionInput, sentAs: Exclude<DecisionPath, 'api'>, ticket?: string): Promise<DecisionOutcome> {
    await condition(() => this.state !== undefined);
    const state = this.state as ExceptionState;
    const seq = this.seq++;
    const path = await this.pathOf(decision, sentAs, seq, ticket);
    const refusal =
      (path ? this.pathRefusal(decision, path) : undefined) ??
      (await this.refusalFor(decision)) ??
      (decision.action === 'approve' ? await this.applyHeldChange() : undefined);
    if (refusal) {
      await this.record(seq, decision, 'refused', { refusal }, path?.via);
      return { accepted: false, status: state.status, refusal };
    }
    const changes = this.changesFor(decision);
    Object.assign(state, changes);
    await this.record(seq, decision, 'accepted', changes, path?.via);
    if (decision.action === 'acknowledge') await (await this.startedClock())?.signal(clockAcknowledgedSignal);
    if (decision.action === 'reassign') await (await this.startedClock())?.signal(clockReassignedSignal, { assigneeId: decision.to });
    this.publish();
    if ((state.status === 'approved' || state.status === 'rejected') && this.raise.notifyWorkflowId) {
      await this.tellWaitingWorkflow(this.raise.notifyWorkflowId, { exceptionWorkflowId: state.workflowId, status: state.status, by: decision.by, reason: decision.reason });
    }
    return { accepted: true, status: state.status };
  }

  /**
   * Which way a decision came. Neither a signal nor an update says who sent it, so the API proves
   * its decisions with a ticket only it can write (db/decision-tickets.ts); anything else came
   * straight to Temporal (its Web UI or `temporal` CLI), with a `by` nobody checked. Runs recorded before
   * decisions were told apart replay without the check.
   */
  private async pathOf(decision: DecisionInput, sentAs: Exclude<DecisionPath, 'api'>, seq: number, ticket?: string): Promise<{ via: DecisionPath; others: 'allow' | 'deny' } | undefined> {
    if (!patched('decision-paths')) return undefined;
    const state = this.state as ExceptionState;
    const origin = await checkDecisionOrigin({ ticket, workflowId: state.workflowId, by: decision.by, action: decision.action, seq });
    return { via: origin.fromApi ? 'api' : sentAs, others: origin.otherDecisions };
  }

  private pathRefusal(decision: DecisionInput, path: { via: DecisionPath; others: 'allow' | 'deny' }): string | undefined {
    if (path.via === 'api') return undefined;
    const how = path.via === 'signal' ? 'as a signal (the Temporal UI)' : 'straight to Temporal';
    if (path.others === 'deny') return `a decision sent ${how} carries no checked identity and is refused here (STOCKFLOW_UI_DECISIONS=deny): decide through the API or \`stockflow exceptions\``;
    if (decision.action === 'approve' && this.state?.requiresEvidence) return `approving this exception overrides a policy: that goes through the API, where the approver is authenticated, not ${how}`;
    return undefined;
  }

  private async refusalFor(decision: DecisionInput): Promise<string | undefined> {
    const state = this.state as ExceptionState;
    if (this.isResolved()) return `the exception is already ${state.status}`;
    const entitled = new Set([state.ownerId, state.backupId, state.escalationId, state.assigneeId, ...this.approverIds]);
    if (!entitled.has(decision.by)) {
      return `${decision.by} may not decide this exception: only the owner (${state.ownerId}), the backup (${state.backupId}), the escalation contact (${state.escalationId}), the current assignee (${state.assigneeId}) or an approver may`;
    }
    if (decision.action === 'approve' && state.requiresEvidence && !decision.evidence?.trim()) {
      return 'approving this exception overrides a policy: evidence is required';
    }
    if (decision.action === 'reassign') {
      if (decision.to === state.assigneeId) return `already assigned to ${decision.to}`;
      if (!(await findOwner(decision.to))) return `to: unknown owner "${decision.to}"`;
    }
    return undefined;
  }

  private async tellWaitingWorkflow(workflowId: string, decided: ExceptionDecided): Promise<void> {
    try {
      await getExternalWorkflowHandle(workflowId).signal(exceptionDecidedSignal, decided);
    } catch {
      // The waiting workflow is gone (terminated by an operator): the decision stands on its own.
    }
  }

  /** Applies the held change once; the idempotency key it carries makes a repeated approval apply nothing more. */
  private async applyHeldChange(): Promise<string | undefined> {
    const change = this.state?.heldChange;
    if (!change) return undefined;
    try {
      this.applied = await applyStockOperation(change);
      return undefined;
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal) return `the held change cannot be applied: ${refusal.message}`;
      throw error;
    }
  }

  private changesFor(decision: DecisionInput): Partial<ExceptionState> {
    switch (decision.action) {
      case 'acknowledge':
        return this.state?.status === 'open' ? { status: 'acknowledged' } : {};
      case 'approve':
        return { status: 'approved', decidedBy: decision.by, decisionReason: decision.reason };
      case 'reject':
        return { status: 'rejected', decidedBy: decision.by, decisionReason: decision.reason };
      case 'reassign':
        return { assigneeId: decision.to };
      case 'comment':
        return {};
    }
  }

  private async record(
    seq: number,
    decision: DecisionInput,
    outcome: 'accepted' | 'refused',
    detail: Partial<ExceptionState> & { refusal?: string },
    via?: DecisionPath,
  ): Promise<void> {
    const state = this.state as ExceptionState;
    const { refusal, ...changes } = detail;
    await recordExceptionEvent({
      exceptionId: state.exceptionId,
      workflowId: state.workflowId,
      seq,
      action: decision.action,
      actor: decision.by,
      outcome,
      reason: decision.reason,
      details: {
        ...(via ? { via } : {}),
        ...(refusal ? { refusal } : {}),
        ...(decision.action === 'approve' && decision.evidence ? { evidence: decision.evidence } : {}),
        ...(decision.action === 'reassign' ? { to: decision.to } : {}),
        ...(outcome === 'accepted' && this.applied && decision.action === 'approve' ? { applied: this.applied.idempotencyKey } : {}),
      },
      changes:
        outcome === 'refused'
          ? undefined
          : {
              ...(changes.status ? { status: changes.status } : {}),
              ...(changes.assigneeId ? { assigneeId: changes.assigneeId } : {}),
              ...(changes.decidedBy ? { decidedBy: changes.decidedBy, decisionReason: changes.decisionReason } : {}),
              ...(decision.action === 'approve' && decision.evidence ? { evidence: decision.evidence } : {}),
              ...(decision.action === 'approve' && this.applied ? { applyResult: this.applied } : {}),
            },
    });
    const entry: DecisionRecord = {
      seq,
      action: decision.action,
      by: decision.by,
      reason: decision.reason,
      outcome,
      refusal,
      ...(via ? { via } : {}),
      at: new Date().toISOString(),
    };
    state.history.push(entry);
  }

  async occurred(again: RaiseExceptionInput): Promise<void> {
    // Every run starts by signal-with-start (services/exceptions.ts), whose signal comes before any
    // other: the first occurrence is the input itself, not a repeat.
    if (!this.openingSignalSeen) {
      this.openingSignalSeen = true;
      return;
    }
    await this.serially(async () => {
      await condition(() => this.state !== undefined);
      const state = this.state as ExceptionState;
      const occurrences = state.occurrences + 1;
      const seq = this.seq++;
      await recordExceptionEvent({
        exceptionId: state.exceptionId,
        workflowId: state.workflowId,
        seq,
        action: 'join',
        actor: again.source,
        outcome: 'accepted',
        reason: again.summary,
        details: { context: again.context ?? {} },
        changes: { occurrences },
      });
      state.occurrences = occurrences;
      state.history.push({ seq, action: 'join', by: again.source, reason: again.summary, outcome: 'accepted', at: new Date().toISOString() });
      this.publish();
    });
  }

  clockChanged(reading: { level: number; assigneeId: string; dueAt?: string }): void {
    if (!this.state || this.isResolved()) return;
    if (reading.level > this.state.escalationLevel) {
      this.state.history.push({ seq: ESCALATION_SEQ_BASE + reading.level, action: 'escalate', by: 'sla-clock', reason: `escalated to ${reading.assigneeId}`, outcome: 'accepted', at: new Date().toISOString() });
    }
    this.state.escalationLevel = reading.level;
    this.state.assigneeId = reading.assigneeId;
    this.state.slaDueAt = reading.dueAt;
    this.publish();
  }

  isResolved(): boolean {
    return this.state?.status === 'approved' || this.state?.status === 'rejected';
  }

  async stopClock(): Promise<void> {
    if (!this.clock) return;
    await this.clock.signal(clockResolvedSignal);
    await this.clock.result();
  }

  snapshot(): ExceptionState {
    if (!this.state) throw new Error('the exception is still being opened');
    return this.state;
  }

  outcome(): ExceptionOutcome {
    const state = this.state as ExceptionState;
    return { exceptionId: state.exceptionId, status: state.status, decidedBy: state.decidedBy, reason: state.decisionReason, applied: this.applied };
  }

  /** Keeps the Temporal UI current: search attributes to filter on, details to read. */
  private publish(): void {
    const s = this.state as ExceptionState;
    upsertSearchAttributes([
      { key: ExceptionStatusKey, value: s.status },
      { key: OwnerId, value: s.assigneeId },
      { key: EscalationLevel, value: s.escalationLevel },
      ...(s.slaDueAt && !this.isResolved() ? [{ key: SlaDueAt, value: new Date(s.slaDueAt) }] : []),
    ]);
    setCurrentDetails(
      [
        `**${s.severity.toUpperCase()} ${s.type}** — ${s.summary}`,
        `Status: **${s.status}** · assigned to **${s.assigneeId}** (owner ${s.ownerId}, backup ${s.backupId}, escalation ${s.escalationId}) · escalation level ${s.escalationLevel}${s.slaDueAt ? ` · next escalation ${s.slaDueAt}` : ''}`,
        s.heldChange ? `Held change: \`${JSON.stringify(s.heldChange)}\`` : 'No stock change is held.',
        s.requiresEvidence ? 'Approving overrides a policy: send `approve` with `evidence`.' : '',
        `Decide with \`stockflow exceptions approve|reject|ack|reassign|comment ${s.exceptionId}\` or the API (as yourself). Signals (\`{"by": "<owner id>", "reason": "…"}\`) are accepted only where STOCKFLOW_UI_DECISIONS=allow.`,
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  }
}
