import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AuditQuery } from '../../schemas/audit';
import { exportAudit } from '../../services/audit';
import { ErrorBody } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const CONTENT_TYPES = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

export function registerAuditRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'GET',
      url: '/v1/audit',
      summary: 'Export the audit trail (who did what, refusals included) as NDJSON or CSV, oldest first, streamed',
      tags: ['audit'],
      access: 'operator',
      query: AuditQuery,
      responses: {
        200: { description: 'one entry per line (NDJSON) or row (CSV: id, at, actor, action, subject_type, subject_id, idempotency_key, details as JSON)' },
        400: { description: 'a bad filter, naming it', schema: ErrorBody },
      },
    },
    async ({ query, reply }) =>
      reply
        .type(CONTENT_TYPES[query.format])
        .header('content-disposition', `attachment; filename="stockflow-audit.${query.format}"`)
        .send(Readable.from(exportAudit(services(deps), query))),
  );
}
