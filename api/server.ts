import type { Client } from '@temporalio/client';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Database } from '../db/connection';
import type { CountingRules } from '../schemas/counting';
import type { FeedRules } from '../schemas/feeds';
import type { AllocationRules, OrderWindows } from '../schemas/orders';
import type { PurchasingRules } from '../schemas/purchase-orders';
import type { Services } from '../services/context';
import { startsAfterAnswers } from '../services/orders';
import { AccessControl, type AccessSettings } from './access';
import { ZodError } from 'zod';
import { fieldError, HttpError, invalidRequest, Refusal, refusalResponse } from './errors';
import { UNSTORABLE_REASON, unstorableTextPath } from './storable-text';
import { openApiDocument } from './openapi';
import { registerCatalogueRoutes } from './routes/catalogue';
import { registerChannelRoutes } from './routes/channels';
import { registerCountingRoutes } from './routes/counting';
import { registerExceptionRoutes } from './routes/exceptions';
import { registerFeedRoutes } from './routes/feeds';
import { registerAuditRoutes } from './routes/audit';
import { registerDashboardRoutes } from './routes/dashboard';
import { registerHealthRoutes } from './routes/health';
import { registerCartRoutes } from './routes/carts';
import { registerIdentityRoutes } from './routes/identity';
import { registerKpiRoutes } from './routes/kpis';
import { registerMetricsRoutes } from './routes/metrics';
import { registerOrderRoutes } from './routes/orders';
import { registerReconciliationRoutes } from './routes/reconciliation';
import { registerPurchaseOrderRoutes } from './routes/purchase-orders';
import { registerReplenishmentRoutes } from './routes/replenishment';
import { registerStockRoutes } from './routes/stock';

export interface ApiDeps extends AccessSettings {
  database: Database;
  client: Client;
  taskQueue: string;
  /** How long a request that starts a workflow waits for its outcome before answering 202. */
  workflowWaitMs?: number;
  bodyLimitBytes?: number;
  /** Feed rule thresholds (configuration: schemas/config.ts). */
  feedRules: FeedRules;
  /** Largest feed body accepted (configuration: schemas/config.ts). */
  feedBodyLimitBytes: number;
  /** Payment and fulfilment windows given to each new order workflow (configuration: schemas/config.ts). */
  orderWindows: OrderWindows;
  /** Largest catalogue import accepted, and records per chunk (configuration: schemas/config.ts). */
  importBodyLimitBytes: number;
  importChunkSize: number;
  /** How orders that name no location are allocated (configuration: schemas/config.ts). */
  allocation: AllocationRules;
  /** Default hold of a cart, in seconds (configuration: schemas/config.ts). */
  cartTtlSeconds: number;
  /** Purchase order grace and over-receipt tolerance (configuration: schemas/config.ts). */
  purchasing: PurchasingRules;
  /** ABC shares and window, count frequencies (configuration: schemas/config.ts). */
  counting: CountingRules;
  /** Where the dashboard links workflows to (configuration: schemas/config.ts). */
  temporalUiUrl: string;
  namespace: string;
}

/** The service layer's view of the API's dependencies. */
export function services(deps: ApiDeps): Services {
  return {
    db: deps.database.db,
    checkoutDb: deps.database.checkout,
    client: deps.client,
    taskQueue: deps.taskQueue,
    orderWindows: deps.orderWindows,
    allocation: deps.allocation,
    cartTtlSeconds: deps.cartTtlSeconds,
    purchasing: deps.purchasing,
    feedRules: deps.feedRules,
    importChunkSize: deps.importChunkSize,
    counting: deps.counting,
  };
}

function routerRefusal(error: FastifyError, reply: FastifyReply): void {
  const message = error.code === 'FST_ERR_BAD_URL' ? 'the path is not validly percent-encoded UTF-8' : error.message;
  reply.status(400).send({ error: 'invalid_request', message });
}

/** Longer than any id a route takes, so an over-long one is refused by its schema, naming the limit. */
const MAX_PATH_PARAM_LENGTH = 2048;

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
    // Long ids reach the route's own schema, which says what the limit is.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    // The router's own refusals (a badly encoded path) answer in our error shape, like every other 4xx.
    frameworkErrors: (error, _request, reply) => routerRefusal(error, reply as FastifyReply),
  });
  const parseJson = app.getDefaultJsonParser('error', 'error');

  // Keep the raw body: webhook signatures are computed over the exact bytes that were sent.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    parseJson(request, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(new HttpError(400, { error: 'invalid_json', message: `body is not valid JSON: ${error.message}` }), undefined);
      const unstorable = unstorableTextPath(value);
      if (unstorable) return done(fieldError(400, 'invalid_request', unstorable, UNSTORABLE_REASON), undefined);
      done(null, value);
    });
  });

  // Only JSON and CSV are read; any other body is refused before a signature is checked against it.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', (_request, _payload, done) =>
    done(new HttpError(415, { error: 'unsupported_media_type', message: 'send the body as application/json (or text/csv where a route takes CSV)' }), undefined),
  );

  // CSV feeds are stored as sent; they are split into lines by the workflow's activities.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    if (unstorableTextPath(body)) return done(fieldError(400, 'invalid_request', undefined, `the CSV ${UNSTORABLE_REASON}`), undefined);
    done(null, undefined);
  });

  const access = new AccessControl(deps.database, deps);
  // A stopping API finishes the workflow starts it owes answered buyers (the relay would, later).
  app.addHook('onClose', () => startsAfterAnswers());
  app.addHook('preHandler', (request, reply) => access.check(request, reply));
  // Before the answer goes out, so a caller that saw its write accepted finds it attributed.
  app.addHook('onSend', async (request, reply, payload) => {
    await access.recordWrite(request, reply.statusCode);
    return payload;
  });

  app.setErrorHandler((thrown: FastifyError | HttpError | Refusal | ZodError, request, reply) => {
    const error = thrown instanceof Refusal ? refusalResponse(thrown) : thrown instanceof ZodError ? invalidRequest(thrown, 'body') : thrown;
    if (error instanceof HttpError) return reply.status(error.statusCode).send(error.body);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: (error.code ?? 'bad_request').toLowerCase(), message: error.message });
    }
    request.log.error(error);
    console.error(`${request.method} ${request.url} failed:`, error);
    return reply.status(500).send({ error: 'internal', message: 'internal error; nothing was lost — retry with the same idempotency key' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  registerMetricsRoutes(app);
  registerHealthRoutes(app, deps);
  registerStockRoutes(app, deps);
  registerExceptionRoutes(app, deps);
  registerOrderRoutes(app, deps);
  registerCartRoutes(app, deps);
  registerReconciliationRoutes(app, deps);
  registerReplenishmentRoutes(app, deps);
  registerPurchaseOrderRoutes(app, deps);
  registerCountingRoutes(app, deps);
  registerFeedRoutes(app, deps);
  registerCatalogueRoutes(app, deps);
  registerIdentityRoutes(app, deps);
  registerKpiRoutes(app, deps);
  registerDashboardRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerChannelRoutes(app, deps);
  app.get('/openapi.json', async () => openApiDocument(app));
  return app;
}
