import type { Db } from './connection';
import { auditLog } from './schema';

export type AuditEntry = typeof auditLog.$inferInsert;

/** Records something that happened outside a stock transaction, such as a refused request. */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}
