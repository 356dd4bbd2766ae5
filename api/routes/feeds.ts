import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../../domain/refusal';
import { feedStatus, submitFeed } from '../../services/feeds';
import { archiveSupplier, mapSupplierSkus, registerSupplier, restoreSupplier } from '../../services/suppliers';
import { FeedId, SupplierId } from '../../schemas/feeds';
import { sourceOf } from '../../schemas/identity';
import { SkuMap, SupplierArchival, SupplierRegistration } from '../../schemas/suppliers';
import { ErrorBody } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const FeedAccepted = z.object({ workflowId: z.string(), feedId: z.string(), lines: z.number(), new: z.boolean() });
const SupplierParams = z.object({ supplierId: SupplierId });
const SupplierStatus = z.object({ supplierId: z.string(), archivedAt: z.string().nullable(), changed: z.boolean() });

export function registerFeedRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'POST',
      url: '/v1/suppliers/:supplierId/feeds',
      summary: 'Receive a supplier stock feed (application/json or text/csv with a "sku,quantity,sequence" header); stored, then ingested by a workflow',
      tags: ['feeds'],
      access: 'upstream',
      source: (request) => sourceOf.supplier((request.params as { supplierId?: unknown }).supplierId),
      params: SupplierParams,
      query: z.object({ feedId: FeedId.optional().describe('the feed id for a CSV feed; default: a hash of the content') }),
      bodyLimit: deps.feedBodyLimitBytes,
      responses: {
        202: { description: 'stored and being ingested (new: false when the same feed was received before)', schema: FeedAccepted },
        400: { description: 'not a feed: bad JSON, no CSV header', schema: ErrorBody },
        404: { description: 'unknown supplier', schema: ErrorBody },
        409: { description: 'the feed id was used for different content, or the supplier is archived', schema: ErrorBody },
        413: { description: 'larger than the feed size limit', schema: ErrorBody },
        415: { description: 'neither application/json nor text/csv', schema: ErrorBody },
      },
    },
    async ({ params, query, request, reply }) => {
      const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim();
      const format = contentType === 'text/csv' ? 'csv' : contentType === 'application/json' ? 'json' : undefined;
      if (!format) throw new Refusal('unsupported_media_type', 'send the feed as application/json or text/csv');
      const submitted = await submitFeed(services(deps), { supplierId: params.supplierId, format, body: request.rawBody ?? '', feedId: query.feedId });
      return reply.status(202).send(submitted);
    },
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/suppliers/:supplierId/feeds/:feedId',
      summary: 'A feed: its status and summary, with live progress while it is being ingested',
      tags: ['feeds'],
      access: 'operator',
      params: z.object({ supplierId: SupplierId, feedId: FeedId }),
      responses: { 200: { description: 'the feed' }, 404: { description: 'no such feed', schema: ErrorBody } },
    },
    async ({ params }) => feedStatus(services(deps), params.supplierId, params.feedId),
  );

  route(
    app,
    {
      method: 'PUT',
      url: '/v1/suppliers/:supplierId',
      summary: 'Register or update a supplier and the location its quantities apply to',
      tags: ['feeds'],
      access: 'operator',
      params: SupplierParams,
      body: SupplierRegistration,
      responses: {
        200: { description: 'saved' },
        400: { description: 'invalid or unknown location', schema: ErrorBody },
        409: { description: 'the supplier is archived: restore it first', schema: ErrorBody },
      },
    },
    async ({ params, body }) => {
      await registerSupplier(services(deps), { id: params.supplierId, ...body });
      return { supplierId: params.supplierId, ...body };
    },
  );

  route(
    app,
    {
      method: 'PUT',
      url: '/v1/suppliers/:supplierId/sku-map',
      summary: 'Map supplier SKUs to our SKUs, with how many base units one supplier unit holds (at most 1,000,000)',
      tags: ['feeds'],
      access: 'operator',
      params: SupplierParams,
      body: SkuMap,
      responses: {
        200: { description: 'saved', schema: z.object({ supplierId: z.string(), mapped: z.number() }) },
        400: { description: 'invalid, a supplier SKU listed twice, or an unknown SKU', schema: ErrorBody },
        404: { description: 'unknown supplier', schema: ErrorBody },
        409: { description: 'the supplier is archived', schema: ErrorBody },
      },
    },
    async ({ params, body }) => mapSupplierSkus(services(deps), params.supplierId, body.entries),
  );

  for (const [action, change] of [
    ['archive', archiveSupplier],
    ['restore', restoreSupplier],
  ] as const) {
    route(
      app,
      {
        method: 'POST',
        url: `/v1/suppliers/:supplierId/${action}`,
        summary:
          action === 'archive'
            ? 'Archive a supplier: its feeds, mappings and ledger history stay; new feeds and mappings are refused until it is restored'
            : 'Restore an archived supplier',
        tags: ['feeds'],
        access: 'operator',
        principalField: 'by',
        params: SupplierParams,
        body: SupplierArchival,
        responses: {
          200: { description: `${action}d (changed: false when it already was)`, schema: SupplierStatus },
          404: { description: 'unknown supplier', schema: ErrorBody },
        },
      },
      async ({ params, body }) => change(services(deps), params.supplierId, body.by, body.reason),
    );
  }
}
