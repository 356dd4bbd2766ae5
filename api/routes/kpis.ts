import type { FastifyInstance } from 'fastify';
import { Kpis, KpiQuery } from '../../schemas/kpis';
import { computeKpis } from '../../services/kpis';
import { ErrorBody } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

export function registerKpiRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'GET',
      url: '/v1/kpis',
      summary: 'The operating KPIs (docs/kpis.md) over a window ending now, optionally for one location or owner',
      tags: ['kpis'],
      access: 'operator',
      query: KpiQuery,
      responses: {
        200: { description: 'the KPIs; money values are null until prices exist', schema: Kpis },
        400: { description: 'a bad filter, naming it', schema: ErrorBody },
      },
    },
    async ({ query }) => computeKpis(services(deps), query),
  );
}
