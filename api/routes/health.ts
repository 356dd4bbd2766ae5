import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { route } from '../route';
import type { ApiDeps } from '../server';

const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  postgres: z.string(),
  temporal: z.string(),
});

export function registerHealthRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'GET',
      url: '/healthz',
      summary: 'Whether Postgres and Temporal answer',
      tags: ['health'],
      access: 'public',
      responses: { 200: { description: 'all parts answer', schema: Health }, 503: { description: 'a part is down', schema: Health } },
    },
    async ({ reply }) => {
      const [postgres, temporal] = await Promise.all([
        check(() => deps.database.sql`SELECT 1`),
        check(() => deps.client.workflowService.getSystemInfo({})),
      ]);
      const status = postgres === 'ok' && temporal === 'ok' ? 'ok' : 'degraded';
      return reply.status(status === 'ok' ? 200 : 503).send({ status, postgres, temporal });
    },
  );
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await probe();
    return 'ok';
  } catch (error) {
    return `down: ${error instanceof Error ? error.message : String(error)}`;
  }
}
