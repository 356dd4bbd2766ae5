import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server';

const here = path.join(__dirname, '..', 'dashboard');
const uplot = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');

/** The page's files: its own, and uPlot's browser build straight from node_modules (no build step). */
const FILES: Record<string, { file: string; type: string }> = {
  '/dashboard': { file: path.join(here, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': { file: path.join(here, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/dashboard.css': { file: path.join(here, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/dashboard/uplot.js': { file: path.join(uplot, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/uplot.css': { file: path.join(uplot, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/**
 * The operator dashboard: public static files, read once. The figures come from GET /v1/kpis with
 * the token the operator types in, so the page itself holds nothing secret.
 */
export function registerDashboardRoutes(app: FastifyInstance, deps: ApiDeps): void {
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(file);
    app.get(url, async (_request, reply) =>
      reply.type(type).header('cache-control', 'no-cache').header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'").send(body),
    );
  }
  app.get('/dashboard/config.json', async () => ({ temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace }));
}
