import { and, asc, eq, gt, gte, lt } from 'drizzle-orm';
import type { AuditEntryView } from '../schemas/audit';
import type { Db } from './connection';
import { auditLog } from './schema';

export type AuditEntry = typeof auditLog.$inferInsert;

/** Records what happened outside a stock transaction (requests accepted or refused), many entries in one statement and one commit. */
export async function recordAudits(db: Db, entries: readonly AuditEntry[]): Promise<void> {
  await db.insert(auditLog).values([...entries]);
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
