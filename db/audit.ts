import { and, asc, eq, gt, gte, lt } from 'drizzle-orm';
import type { AuditEntryView } from '../schemas/audit';
import type { Sql } from './client';
import type { Db } from './connection';
import { auditLog } from './schema';

export type AuditEntry = typeof auditLog.$inferInsert;

/**
 * Records what happened outside a stock transaction (requests accepted or refused), many entries
 * in one statement, on the pool (a commit of their own) or in the transaction of the write they
 * attribute. The entries travel as one JSON document, so the statement's text is the same however
 * many there are: prepared once per connection, where a multi-row VALUES list was a new statement
 * to parse and plan for every count of rows.
 */
export async function recordAudits(sql: Sql, entries: readonly AuditEntry[]): Promise<void> {
  await sql`
    INSERT INTO audit_log (actor, action, subject_type, subject_id, idempotency_key, details)
    SELECT actor, action, subject_type, subject_id, idempotency_key, details
    FROM jsonb_to_recordset(${JSON.stringify(entries.map(auditRow))}::jsonb) AS r(n int, actor text, action text, subject_type text, subject_id text, idempotency_key text, details jsonb)
    ORDER BY n`;
}

/** An entry as a row of the statement's JSON document, numbered in the order given. */
function auditRow(e: AuditEntry, n: number) {
  return { n, actor: e.actor, action: e.action, subject_type: e.subjectType, subject_id: e.subjectId, idempotency_key: e.idempotencyKey, details: e.details ?? {} };
}

/** Entries after `afterId` matching the filter, oldest first: one page of a keyset walk over audit_log. */
export async function auditPage(
  db: Db,
  filter: { from?: string; to?: string; subjectType?: string; subject?: string; actor?: string },
  afterId: number,
  limit: number,
): Promise<AuditEntryView[]> {
  const conditions = [gt(auditLog.id, afterId)];
  if (filter.from) conditions.push(gte(auditLog.at, new Date(filter.from)));
  if (filter.to) conditions.push(lt(auditLog.at, new Date(filter.to)));
  if (filter.subjectType) conditions.push(eq(auditLog.subjectType, filter.subjectType));
  if (filter.subject) conditions.push(eq(auditLog.subjectId, filter.subject));
  if (filter.actor) conditions.push(eq(auditLog.actor, filter.actor));
  const rows = await db.select().from(auditLog).where(and(...conditions)).orderBy(asc(auditLog.id)).limit(limit);
  return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
}
