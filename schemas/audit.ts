import { z } from 'zod';

const Timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

/** `GET /v1/audit` filters; the range is half-open, [from, to). */
export const AuditQuery = z
  .object({
    from: Timestamp.optional().describe('earliest entry, inclusive'),
    to: Timestamp.optional().describe('latest entry, exclusive'),
    subjectType: z.string().min(1).max(100).optional().describe('e.g. stock_operation, exception'),
    subject: z.string().min(1).max(2048).optional().describe('the subject id, e.g. an idempotency key or an exception workflow id'),
    actor: z.string().min(1).max(200).optional(),
    format: z.enum(['ndjson', 'csv']).default('ndjson'),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'must be later than from', path: ['to'] });
export type AuditQuery = z.infer<typeof AuditQuery>;

export interface AuditEntryView {
  id: number;
  at: string;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  idempotencyKey: string | null;
  details: unknown;
}
