import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Access } from '../domain/access';
import type { Role } from '../schemas/identity';
import { invalidRequest } from './errors';

export type { Access };

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  tags: string[];
  access: Access;
  /** A stricter role than the access implies (api/access.ts `requiredRole`): `approver` to decide, `admin` to manage. */
  role?: Role;
  /** For an upstream route: the source (schemas/identity.ts SourceId) whose secret must sign this request. */
  source?: (request: FastifyRequest) => string | undefined;
  /** The body field that names who acted; filled with the authenticated person's id when left out. */
  principalField?: 'by';
  params?: P;
  query?: Q;
  body?: B;
  /** Overrides the server's body limit for this route (large feeds). */
  bodyLimit?: number;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

export interface Parsed<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  params: z.infer<P>;
  query: z.infer<Q>;
  body: z.infer<B>;
  request: FastifyRequest;
  reply: FastifyReply;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

type AnySpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;
const registries = new WeakMap<FastifyInstance, AnySpec[]>();
/** A no-op until runtime/tracing.ts registers a provider. */
const tracer = trace.getTracer('stockflow-api');

/** The routes registered on an app, for its OpenAPI document. */
export function registeredRoutes(app: FastifyInstance): readonly AnySpec[] {
  return registries.get(app) ?? [];
}

/**
 * Registers a route whose params, query and body are parsed by zod schemas before the handler
 * runs; a failure is a 400 naming every bad field, and the handler never sees bad input.
 */
export function route<P extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown, B extends z.ZodType = z.ZodUnknown>(
  app: FastifyInstance,
  spec: RouteSpec<P, Q, B>,
  handler: (input: Parsed<P, Q, B>) => Promise<unknown>,
): void {
  const registry = registries.get(app) ?? [];
  registry.push(spec as unknown as AnySpec);
  registries.set(app, registry);
  app.route({
    method: spec.method,
    url: spec.url,
    config: { access: spec.access, role: spec.role, source: spec.source, principalField: spec.principalField },
    ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}),
    // Each request is a span, continuing the caller's trace (W3C traceparent) when it sends one; a
    // workflow it starts carries the span on through the Temporal client interceptor.
    handler: async (request, reply) =>
      tracer.startActiveSpan(
        `${spec.method} ${spec.url}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': spec.method, 'http.route': spec.url } },
        propagation.extract(context.active(), request.headers),
        async (span) => {
          try {
            const params = parse(spec.params, request.params, 'params');
            const query = parse(spec.query, request.query, 'query');
            const body = parse(spec.body, request.body, 'body');
            return await handler({ params, query, body, request, reply } as Parsed<P, Q, B>);
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
            throw error;
          } finally {
            span.end();
          }
        },
      ),
  });
}

function parse(schema: z.ZodType | undefined, value: unknown, where: 'body' | 'params' | 'query'): unknown {
  if (!schema) return value;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(parsed.error, where);
  return parsed.data;
}
