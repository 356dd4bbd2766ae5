import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requiredRole } from '../domain/access';
import { registeredRoutes, type Access } from './route';

const SECURITY: Record<Access, Record<string, string[]>[] | undefined> = {
  public: undefined,
  upstream: [{ webhookSignature: [] }],
  operator: [{ bearerToken: [] }],
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
}

/** The body as a caller sends it: the field naming who acted is filled in from the credentials, so it is optional. */
function withoutRequired(schema: Record<string, unknown>, field: string | undefined): Record<string, unknown> {
  if (!field) return schema;
  const variants = ['oneOf', 'anyOf'].filter((k) => Array.isArray(schema[k]));
  return {
    ...schema,
    ...(Array.isArray(schema.required) ? { required: (schema.required as string[]).filter((f) => f !== field) } : {}),
    ...Object.fromEntries(variants.map((k) => [k, (schema[k] as Record<string, unknown>[]).map((v) => withoutRequired(v, field))])),
  };
}

/** OpenAPI 3 document generated from the same zod schemas that validate the requests. */
export function openApiDocument(app: FastifyInstance): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of registeredRoutes(app)) {
    const path = spec.url.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', spec.params],
      ['query', spec.query],
    ] as const) {
      if (!(schema instanceof z.ZodObject)) continue;
      for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
        parameters.push({ name, in: where, required: where === 'path' || !field.safeParse(undefined).success, schema: jsonSchema(field, 'input') });
      }
    }
    paths[path] ??= {};
    paths[path][spec.method.toLowerCase()] = {
      summary: spec.summary,
      tags: spec.tags,
      ...(SECURITY[spec.access] ? { security: SECURITY[spec.access], 'x-stockflow-role': requiredRole(spec) } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: withoutRequired(jsonSchema(spec.body, 'input'), spec.principalField) } } } } : {}),
      responses: Object.fromEntries(
        Object.entries(spec.responses).map(([status, r]) => [
          status,
          { description: r.description, ...(r.schema ? { content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } } } : {}) },
        ]),
      ),
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Stockflow API', version: '0.1.0', description: 'Inventory operations as durable Temporal workflows over a PostgreSQL stock ledger.' },
    components: {
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'an API token (`stockflow users token`), an OIDC JWT from the configured issuer, or the bootstrap STOCKFLOW_API_TOKEN; x-stockflow-role is the role the operation needs',
        },
        webhookSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'x-stockflow-signature',
          description:
            'sha256=HMAC-SHA256(<the source\'s own secret, else STOCKFLOW_WEBHOOK_SECRET>, "<x-stockflow-timestamp>.<raw body>") in hex; an operator token may be sent instead',
        },
      },
    },
    paths,
  };
}
