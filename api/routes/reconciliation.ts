import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { getRun, listRuns } from '../../db/reconciliation';
import { Refusal } from '../../domain/refusal';
import { importSystemSnapshot, runReconciliationNow, type SnapshotUpload } from '../../services/reconciliation';
import { SnapshotCsvQuery, SnapshotImport } from '../../schemas/reconciliation';
import { ErrorBody, fieldError } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const Report = z.object({
  runId: z.number(),
  runKey: z.string(),
  snapshotId: z.number().nullable(),
  checked: z.number(),
  matched: z.number(),
  deltas: z.array(z.record(z.string(), z.unknown())),
  ranAt: z.string(),
});

export function registerReconciliationRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'POST',
      url: '/v1/reconciliation/snapshots',
      summary: 'Import an on-hand snapshot from the system of record: JSON as below, or text/csv with a "sku,location,on_hand" header and ?source=',
      tags: ['reconciliation'],
      access: 'upstream',
      query: SnapshotCsvQuery.partial(),
      body: SnapshotImport.optional(),
      responses: {
        201: { description: 'imported; the next reconciliation compares against it', schema: z.object({ snapshotId: z.number(), lines: z.number() }) },
        400: { description: 'invalid snapshot, naming every bad line and field', schema: ErrorBody },
      },
    },
    async ({ query, body, request, reply }) => {
      const isCsv = (request.headers['content-type'] ?? '').split(';')[0].trim() === 'text/csv';
      if (!isCsv && !body) throw new Refusal('invalid_snapshot', 'send the snapshot as application/json or text/csv');
      const upload: SnapshotUpload = isCsv ? { format: 'csv', text: request.rawBody ?? '', ...query } : { format: 'json', snapshot: body as SnapshotImport };
      return reply.status(201).send(await importSystemSnapshot(services(deps), upload));
    },
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/reconciliation/runs',
      summary: 'Run the daily reconciliation now; answers with its report when it finishes within ?wait= seconds',
      tags: ['reconciliation'],
      access: 'operator',
      query: z.object({ wait: z.coerce.number().int().min(0).max(300).default(60).describe('seconds to wait for the report before answering 202') }),
      body: z.strictObject({}).optional(),
      responses: {
        200: { description: 'the report', schema: Report },
        202: { description: 'still running', schema: z.object({ workflowId: z.string() }) },
        400: { description: 'a body with fields', schema: ErrorBody },
      },
    },
    async ({ query, reply }) => {
      const run = await runReconciliationNow(services(deps), Math.min(query.wait * 1000, deps.workflowWaitMs ?? Number.POSITIVE_INFINITY));
      return 'report' in run ? run.report : reply.status(202).send(run);
    },
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/reconciliation/runs',
      summary: 'Reconciliation reports, newest first',
      tags: ['reconciliation'],
      access: 'operator',
      query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
      responses: { 200: { description: 'reports', schema: z.object({ runs: z.array(Report) }) } },
    },
    async ({ query }) => ({ runs: await listRuns(deps.database.db, query.limit) }),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/reconciliation/runs/:id',
      summary: 'One reconciliation report: what was checked, what matched, every delta',
      tags: ['reconciliation'],
      access: 'operator',
      params: z.object({ id: z.coerce.number({ error: 'must be a number' }).int().positive() }),
      responses: { 200: { description: 'the report', schema: Report }, 404: { description: 'no such run', schema: ErrorBody } },
    },
    async ({ params }) => {
      const report = await getRun(deps.database.db, params.id);
      if (!report) throw fieldError(404, 'not_found', 'id', `no reconciliation run ${params.id}`);
      return report;
    },
  );
}
