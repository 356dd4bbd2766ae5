import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { runReconciliationNow } from '../../services/reconciliation';
import { getRun, importSnapshot, listRuns } from '../../db/reconciliation';
import { SnapshotCsvQuery, SnapshotImport } from '../../schemas/reconciliation';
import { ErrorBody, fieldError, HttpError, invalidRequest } from '../errors';
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

const CSV_COLUMNS = ['sku', 'location', 'on_hand'] as const;

/**
 * The lines of a CSV snapshot with a `sku,location,on_hand` header. SKUs and location codes cannot
 * contain commas or quotes, so a plain split is exact; quotes around a field are dropped.
 */
function csvLines(text: string): Record<string, unknown>[] {
  const rows = text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(',').map((cell) => cell.trim().replace(/^"(.*)"$/, '$1')));
  const header = (rows[0] ?? []).map((h) => h.toLowerCase());
  const missing = CSV_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new HttpError(400, { error: 'invalid_snapshot', message: `the CSV header lacks ${missing.join(', ')}: expected "sku,location,on_hand"` });
  }
  return rows.slice(1).map((row) => {
    const cell = (column: (typeof CSV_COLUMNS)[number]) => row[header.indexOf(column)];
    return { sku: cell('sku'), location: cell('location'), onHand: /^-?\d+$/.test(cell('on_hand') ?? '') ? Number(cell('on_hand')) : cell('on_hand') };
  });
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
        const parsed = SnapshotImport.safeParse({ ...query, lines: csvLines(request.rawBody ?? '') });
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
