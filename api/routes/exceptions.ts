import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { decideExceptionById, raiseException, replaceOwnershipRules } from '../../services/exceptions';
import { getException, listExceptions, type ExceptionEventRow, type ExceptionRow } from '../../db/exceptions';
import { getOwnership } from '../../db/ownership';
import { Decision, ExceptionFilter, RaiseException } from '../../schemas/exceptions';
import { OwnershipConfig } from '../../schemas/ownership';
import { ErrorBody, fieldError } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const ExceptionView = z.object({
  id: z.number(),
  workflowId: z.string(),
  type: z.string(),
  subject: z.string(),
  severity: z.string(),
  summary: z.string(),
  status: z.string(),
  ownerId: z.string(),
  assigneeId: z.string(),
  escalationLevel: z.number(),
  sku: z.string().nullable(),
  location: z.string().nullable(),
  supplierId: z.string().nullable(),
  orderId: z.string().nullable(),
  occurrences: z.number(),
  heldChange: z.unknown(),
  requiresEvidence: z.boolean(),
  context: z.unknown(),
  decidedBy: z.string().nullable(),
  decisionReason: z.string().nullable(),
  evidence: z.string().nullable(),
  openedAt: z.string(),
  acknowledgedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
});

const HistoryEntry = z.object({ seq: z.number(), action: z.string(), actor: z.string(), outcome: z.string(), reason: z.string().nullable(), details: z.unknown(), at: z.string() });

const IdParams = z.object({ id: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive') });

function view(row: ExceptionRow): z.infer<typeof ExceptionView> {
  return {
    id: row.id,
    workflowId: row.workflowId,
    type: row.type,
    subject: row.subject,
    severity: row.severity,
    summary: row.summary,
    status: row.status,
    ownerId: row.ownerId,
    assigneeId: row.assigneeId,
    escalationLevel: row.escalationLevel,
    sku: row.sku,
    location: row.location,
    supplierId: row.supplierId,
    orderId: row.orderId,
    occurrences: row.occurrences,
    heldChange: row.heldChange,
    requiresEvidence: row.requiresEvidence,
    context: row.context,
    decidedBy: row.decidedBy,
    decisionReason: row.decisionReason,
    evidence: row.evidence,
    openedAt: row.openedAt.toISOString(),
    acknowledgedAt: row.acknowledgedAt?.toISOString() ?? null,
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
  };
}

function historyView(row: ExceptionEventRow): z.infer<typeof HistoryEntry> {
  return { seq: row.seq, action: row.action, actor: row.actor, outcome: row.outcome, reason: row.reason, details: row.details, at: row.at.toISOString() };
}

export function registerExceptionRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'GET',
      url: '/v1/exceptions',
      summary: 'The exception queue, newest first, filtered by status, assignee, type or SKU',
      tags: ['exceptions'],
      access: 'operator',
      query: ExceptionFilter,
      responses: { 200: { description: 'exceptions', schema: z.object({ exceptions: z.array(ExceptionView) }) } },
    },
    async ({ query }) => ({ exceptions: (await listExceptions(deps.database.db, query)).map(view) }),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/exceptions/:id',
      summary: 'One exception with its full history',
      tags: ['exceptions'],
      access: 'operator',
      params: IdParams,
      responses: {
        200: { description: 'the exception', schema: z.object({ exception: ExceptionView, history: z.array(HistoryEntry) }) },
        404: { description: 'no such exception', schema: ErrorBody },
      },
    },
    async ({ params }) => {
      const found = await getException(deps.database.db, params.id);
      if (!found) throw fieldError(404, 'not_found', 'id', `no exception ${params.id}`);
      return { exception: view(found.exception), history: found.events.map(historyView) };
    },
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/exceptions',
      summary: 'Raise an exception by hand (joins the open one for the same type and subject)',
      tags: ['exceptions'],
      access: 'operator',
      body: RaiseException,
      responses: { 202: { description: 'raised; the workflow picks the owner', schema: z.object({ workflowId: z.string() }) } },
    },
    async ({ body, reply }) => {
      const handle = await raiseException(services(deps), body);
      return reply.status(202).send({ workflowId: handle.workflowId });
    },
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/exceptions/:id/decisions',
      summary: 'Acknowledge, approve, reject, reassign or comment; refused decisions answer 403 with the reason (and are audited)',
      tags: ['exceptions'],
      access: 'operator',
      role: 'approver',
      principalField: 'by',
      params: IdParams,
      body: Decision,
      responses: {
        200: { description: 'accepted', schema: z.object({ status: z.string() }) },
        403: { description: 'refused: not entitled, evidence missing, held change cannot be applied', schema: ErrorBody },
        404: { description: 'no such exception', schema: ErrorBody },
        409: { description: 'already resolved', schema: ErrorBody },
      },
    },
    async ({ params, body }) => ({ status: (await decideExceptionById(services(deps), params.id, body)).status }),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/ownership',
      summary: 'Owners and ownership rules',
      tags: ['ownership'],
      access: 'operator',
      responses: { 200: { description: 'owners and rules', schema: OwnershipConfig } },
    },
    async () => getOwnership(deps.database.db),
  );

  route(
    app,
    {
      method: 'PUT',
      url: '/v1/ownership',
      summary: 'Replace the ownership rules (owners are added or updated, never removed)',
      tags: ['ownership'],
      access: 'operator',
      role: 'admin',
      body: OwnershipConfig,
      responses: { 200: { description: 'the rules now in force', schema: OwnershipConfig }, 400: { description: 'invalid, naming the bad entry', schema: ErrorBody } },
    },
    async ({ body }) => replaceOwnershipRules(services(deps), body),
  );
}
