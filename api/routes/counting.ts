import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AbcClass, AbcEntry, AbcRun, AccuracyQuery, CountAccuracy, CountSubmission, CountSubmissionResult, CountTaskQuery, CountTaskView } from '../../schemas/counting';
import { getAbcClasses, getCountAccuracy, getCountTask, getCountTasks, recomputeAbc, submitCounts } from '../../services/counting';
import { ErrorBody } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const IdParams = z.object({ id: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive') });

export function registerCountingRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'GET',
      url: '/v1/counting/abc',
      summary: 'Each SKU’s ABC class by revenue over the trailing window, with its revenue, rank and when it was computed',
      tags: ['counting'],
      access: 'operator',
      query: z.object({ abcClass: AbcClass.optional() }),
      responses: { 200: { description: 'by rank', schema: z.array(AbcEntry) } },
    },
    async ({ query }) => getAbcClasses(services(deps), query),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/counting/abc',
      summary: 'Recompute the ABC classes now (the weekly schedule does the same)',
      tags: ['counting'],
      access: 'operator',
      body: z.strictObject({}).optional(),
      responses: {
        200: { description: 'how many SKUs are in each class', schema: AbcRun },
        400: { description: 'a body with fields', schema: ErrorBody },
      },
    },
    async () => recomputeAbc(services(deps), new Date()),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/counting/accuracy',
      summary: 'Stock accuracy from first counts: the share of counted SKU-locations within 5%, per location and ABC class',
      tags: ['counting'],
      access: 'operator',
      query: AccuracyQuery,
      responses: { 200: { description: 'per location and class, and per class', schema: CountAccuracy } },
    },
    async ({ query }) => getCountAccuracy(services(deps), query),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/count-tasks',
      summary: 'Count tasks (one per location and working day): what to count, never the expected figure',
      tags: ['counting'],
      access: 'operator',
      query: CountTaskQuery,
      responses: { 200: { description: 'the tasks, newest day first', schema: z.array(CountTaskView) } },
    },
    async ({ query }) => getCountTasks(services(deps), query),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/count-tasks/:id',
      summary: 'One count task as the counter sees it: SKUs and location to count, never the expected figure nor anyone’s count',
      tags: ['counting'],
      access: 'operator',
      params: IdParams,
      responses: {
        200: { description: 'the task', schema: CountTaskView },
        404: { description: 'no such task', schema: ErrorBody },
      },
    },
    async ({ params }) => getCountTask(services(deps), params.id),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/count-tasks/:id/results',
      summary: 'Counted figures as the authenticated counter: within 5% posts a cycle count; over 5% asks for a recount by someone else, whose figure posts',
      tags: ['counting'],
      access: 'operator',
      role: 'operator',
      principalField: 'by',
      params: IdParams,
      body: CountSubmission,
      responses: {
        200: { description: 'each line posted (with its grade) or awaiting a recount', schema: CountSubmissionResult },
        400: { description: 'a SKU the task does not list, or listed twice', schema: ErrorBody },
        403: { description: 'a recount by the first counter, or a counter not entitled to the task', schema: ErrorBody },
        404: { description: 'no such task', schema: ErrorBody },
        409: { description: 'a new figure for a line already counted', schema: ErrorBody },
      },
    },
    async ({ params, body }) => submitCounts(services(deps), params.id, body),
  );
}
