import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { ExceptionFilter, ExceptionStatus, RaiseException } from '../schemas/exceptions';
import type { Responsibility } from '../schemas/ownership';
import type { Db } from './connection';
import { auditLog, exceptionEvents, exceptions, notifications } from './schema';

export type ExceptionRow = typeof exceptions.$inferSelect;
export type ExceptionEventRow = typeof exceptionEvents.$inferSelect;

/**
 * Records a newly opened exception for one workflow run. Idempotent per run: a retried activity
 * gets the row it created the first time.
 */
export async function openException(
  db: Db,
  input: { workflowId: string; runId: string; raise: RaiseException; responsibility: Responsibility },
): Promise<{ exceptionId: number; openedAt: Date }> {
  const { raise, responsibility } = input;
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(exceptions)
      .values({
        workflowId: input.workflowId,
        runId: input.runId,
        type: raise.type,
        subject: raise.subject,
        severity: raise.severity,
        summary: raise.summary,
        ownerId: responsibility.owner.id,
        assigneeId: responsibility.owner.id,
        sku: raise.sku,
        location: raise.location,
        supplierId: raise.supplierId,
        orderId: raise.orderId,
        heldChange: raise.heldChange,
        requiresEvidence: raise.requiresEvidence,
        context: { ...raise.context, source: raise.source },
      })
      .onConflictDoNothing({ target: exceptions.runId })
      .returning({ id: exceptions.id, openedAt: exceptions.openedAt });
    if (!created) {
      const [existing] = await tx
        .select({ id: exceptions.id, openedAt: exceptions.openedAt })
        .from(exceptions)
        .where(eq(exceptions.runId, input.runId));
      return { exceptionId: existing.id, openedAt: existing.openedAt };
    }
    await Promise.all([
      tx.insert(exceptionEvents).values({
        exceptionId: created.id,
        seq: 0,
        action: 'open',
        actor: raise.source,
        outcome: 'accepted',
        reason: raise.summary,
        details: { ownerId: responsibility.owner.id, ackSlaSeconds: responsibility.ackSlaSeconds, resolutionSlaSeconds: responsibility.resolutionSlaSeconds },
      }),
      tx.insert(auditLog).values({
        actor: raise.source,
        action: 'exception.open',
        subjectType: 'exception',
        subjectId: input.workflowId,
        details: { exceptionId: created.id, type: raise.type, owner: responsibility.owner.id, heldChange: raise.heldChange ?? null },
      }),
    ]);
    return { exceptionId: created.id, openedAt: created.openedAt };
  });
}

export interface ExceptionEventInput {
  exceptionId: number;
  workflowId: string;
  seq: number;
  action: string;
  actor: string;
  outcome: 'accepted' | 'refused';
  reason?: string;
  details?: Record<string, unknown>;
  /** What the event changes on the exception row, applied only the first time the event is recorded. */
  changes?: Partial<{
    status: ExceptionStatus;
    assigneeId: string;
    escalationLevel: number;
    decidedBy: string;
    decisionReason: string;
    evidence: string;
    applyResult: unknown;
    occurrences: number;
  }>;
}

/**
 * Appends one step of an exception's history, applies its changes to the exception row and
 * writes the audit row, in one transaction; a retry with the same sequence number does nothing.
 */
export async function recordExceptionEvent(db: Db, event: ExceptionEventInput): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(exceptionEvents)
      .values({
        exceptionId: event.exceptionId,
        seq: event.seq,
        action: event.action,
        actor: event.actor,
        outcome: event.outcome,
        reason: event.reason,
        details: event.details ?? {},
      })
      .onConflictDoNothing({ target: [exceptionEvents.exceptionId, exceptionEvents.seq] })
      .returning({ id: exceptionEvents.id });
    if (!inserted) return false;
    const changes = event.changes ?? {};
    const timestamps: Record<string, SQL> = {};
    if (changes.status === 'acknowledged') timestamps.acknowledgedAt = sql`coalesce(${exceptions.acknowledgedAt}, now())`;
    if (changes.status === 'approved' || changes.status === 'rejected') timestamps.resolvedAt = sql`now()`;
    await Promise.all([
      Object.keys(changes).length > 0
        ? tx
            .update(exceptions)
            .set({ ...changes, ...timestamps })
            .where(eq(exceptions.id, event.exceptionId))
        : Promise.resolve(),
      tx.insert(auditLog).values({
        actor: event.actor,
        action: `exception.${event.action}${event.outcome === 'refused' ? '.refused' : ''}`,
        subjectType: 'exception',
        subjectId: event.workflowId,
        details: { exceptionId: event.exceptionId, seq: event.seq, reason: event.reason ?? null, ...(event.details ?? {}) },
      }),
    ]);
    return true;
  });
}

/** Claims the delivery of one notification; false when it was already delivered. */
export async function claimNotification(
  db: Db,
  input: { exceptionId: number; level: number; channel: string; recipientId: string; payload: unknown },
  deliver: () => Promise<void>,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [claimed] = await tx
      .insert(notifications)
      .values(input)
      .onConflictDoNothing({ target: [notifications.exceptionId, notifications.level, notifications.channel] })
      .returning({ id: notifications.id });
    if (!claimed) return false;
    // Delivered inside the claiming transaction: if delivery throws, the claim rolls back and the
    // activity's retry tries again; once committed, a retry finds the claim and sends nothing.
    await deliver();
    return true;
  });
}

export async function listExceptions(db: Db, filter: ExceptionFilter): Promise<ExceptionRow[]> {
  const conditions = [
    filter.status ? eq(exceptions.status, filter.status) : undefined,
    filter.owner ? eq(exceptions.assigneeId, filter.owner) : undefined,
    filter.type ? eq(exceptions.type, filter.type) : undefined,
    filter.sku ? eq(exceptions.sku, filter.sku) : undefined,
  ].filter((c) => c !== undefined);
  return db
    .select()
    .from(exceptions)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(exceptions.openedAt), desc(exceptions.id))
    .limit(filter.limit);
}

export async function getException(db: Db, id: number): Promise<{ exception: ExceptionRow; events: ExceptionEventRow[] } | undefined> {
  const [exception] = await db.select().from(exceptions).where(eq(exceptions.id, id));
  if (!exception) return undefined;
  const events = await db.select().from(exceptionEvents).where(eq(exceptionEvents.exceptionId, id)).orderBy(asc(exceptionEvents.at), asc(exceptionEvents.seq));
  return { exception, events };
}

/** The latest run of an exception's workflow as recorded: its status and who decided it. */
export async function latestDecision(db: Db, workflowId: string): Promise<{ status: string; decidedBy: string | null } | undefined> {
  const [row] = await db
    .select({ status: exceptions.status, decidedBy: exceptions.decidedBy })
    .from(exceptions)
    .where(eq(exceptions.workflowId, workflowId))
    .orderBy(desc(exceptions.id))
    .limit(1);
  return row;
}
