import { auditPage } from '../db/audit';
import type { AuditEntryView, AuditQuery } from '../schemas/audit';
import type { Services } from './context';

/** Rows per query: memory stays at one page however long the log is. */
const PAGE = 1000;

const CSV_COLUMNS = ['id', 'at', 'actor', 'action', 'subject_type', 'subject_id', 'idempotency_key', 'details'] as const;

/** RFC 4180: quote a field when it holds a comma, quote or line break, doubling quotes. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvLine(e: AuditEntryView): string {
  return [String(e.id), e.at, e.actor, e.action, e.subjectType, e.subjectId, e.idempotencyKey ?? '', JSON.stringify(e.details)].map(csvField).join(',') + '\r\n';
}

/**
 * The audit trail as NDJSON or CSV text, streamed: a keyset walk over audit_log by id, one page at a
 * time, so an export of any size never holds more than a page.
 */
export async function* exportAudit(s: Pick<Services, 'db'>, query: AuditQuery): AsyncGenerator<string> {
  if (query.format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
  let afterId = 0;
  for (;;) {
    const page = await auditPage(s.db, query, afterId, PAGE);
    if (page.length === 0) return;
    yield page.map((e) => (query.format === 'csv' ? csvLine(e) : JSON.stringify(e) + '\n')).join('');
    afterId = page[page.length - 1].id;
    if (page.length < PAGE) return;
  }
}
