import { z } from 'zod';

const Timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

/** Text Postgres can compare against: no NUL byte, no unpaired surrogate (UTF-8 would change it). */
const Storable = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !v.includes('\u0000') && Buffer.from(v, 'utf8').toString('utf8') === v, 'must not contain NUL bytes or unpaired surrogates');

/** `GET /v1/audit` filters; the range is half-open, [from, to). */
export const AuditQuery = z
  .object({
    from: Timestamp.optional().describe('earliest entry, inclusive'),
    to: Timestamp.optional().describe('latest entry, exclusive'),
    subjectType: Storable(100).optional().describe('e.g. stock_operation, exception'),
    subject: Storable(2048).optional().describe('the subject id, e.g. an idempotency key or an exception workflow id'),
    actor: Storable(200).optional(),
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
