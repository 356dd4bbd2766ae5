import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { resultWithin } from '../../services/outcome';
import { startReconciliationNow } from '../../services/reconciliation';
import { getRun, importSnapshot, listRuns } from '../../db/reconciliation';
import { SnapshotCsvQuery, SnapshotImport, type ReconciliationReport } from '../../schemas/reconciliation';
import { CsvFormatError } from '../../domain/csv';
import { snapshotLinesFromCsv } from '../../domain/snapshot-csv';
import { ErrorBody, fieldError, HttpError, invalidRequest } from '../errors';
import { route } from '../route';
import type { ApiDeps } from '../server';

const Report = z.object({
  runId: z.number(),
  runKey: z.string(),
  snapshotId: z.number().nullable(),
  checked: z.number(),
  matched: z.number(),
  deltas: z.array(z.record(z.string(), z.unknown())),
  ranAt: z.string(),
});

function csvSnapshotLines(text: string): Record<string, unknown>[] {
  try {
    return snapshotLinesFromCsv(text);
  } catch (error) {
    if (error instanceof CsvFormatError) throw new HttpError(400, { error: 'invalid_snapshot', message: error.message });
    throw error;
  }
}

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
      let snapshot = body;
      if (isCsv) {
        const parsed = SnapshotImport.safeParse({ ...query, lines: csvSnapshotLines(request.rawBody ?? '') });
        if (!parsed.success) throw invalidRequest(parsed.error, 'body');
        snapshot = parsed.data;
      }
      if (!snapshot) throw new HttpError(400, { error: 'invalid_snapshot', message: 'send the snapshot as application/json or text/csv' });
      return reply.status(201).send(await importSnapshot(deps.database.db, snapshot, isCsv ? 'csv' : 'json'));
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
      const handle = await startReconciliationNow(deps.client, deps.taskQueue);
      const report = await resultWithin<ReconciliationReport>(handle, Math.min(query.wait * 1000, deps.workflowWaitMs ?? Number.POSITIVE_INFINITY));
      return report ?? reply.status(202).send({ workflowId: handle.workflowId });
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
