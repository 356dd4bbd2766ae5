import type { FastifyInstance } from 'fastify';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { submitFeed } from '../../services/feeds';
import { StockRefusal } from '../../db/errors';
import { mapSupplierSkus, registerSupplier } from '../../db/feeds';
import { supplierFeeds } from '../../db/schema';
import { FeedFormatError } from '../../domain/feed-parse';
import { LocationCode, Sku } from '../../schemas/common';
import { FeedId, SupplierId } from '../../schemas/feeds';
import { feedProgressQuery } from '../../workflows/supplier-feed-ingest';
import { ErrorBody, fieldError, HttpError } from '../errors';
import { route } from '../route';
import type { ApiDeps } from '../server';
import { workflowIds } from '../../domain/keys';

const FeedAccepted = z.object({ workflowId: z.string(), feedId: z.string(), lines: z.number(), new: z.boolean() });
const SupplierParams = z.object({ supplierId: SupplierId });

export function registerFeedRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'POST',
      url: '/v1/suppliers/:supplierId/feeds',
      summary: 'Receive a supplier stock feed (application/json or text/csv with a "sku,quantity,sequence" header); stored, then ingested by a workflow',
      tags: ['feeds'],
      access: 'upstream',
      params: SupplierParams,
      query: z.object({ feedId: FeedId.optional().describe('the feed id for a CSV feed; default: a hash of the content') }),
      bodyLimit: deps.feedBodyLimitBytes,
      responses: {
        202: { description: 'stored and being ingested (new: false when the same feed was received before)', schema: FeedAccepted },
        400: { description: 'not a feed: bad JSON, no CSV header', schema: ErrorBody },
        404: { description: 'unknown supplier', schema: ErrorBody },
        413: { description: 'larger than the feed size limit', schema: ErrorBody },
      },
    },
    async ({ params, query, request, reply }) => {
      const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim();
      const format = contentType === 'text/csv' ? 'csv' : contentType === 'application/json' ? 'json' : undefined;
      if (!format) throw new HttpError(415, { error: 'unsupported_media_type', message: 'send the feed as application/json or text/csv' });
      try {
        const submitted = await submitFeed(deps.database.db, deps.client, deps.taskQueue, deps.feedRules, {
          supplierId: params.supplierId,
          format,
          body: request.rawBody ?? '',
          feedId: query.feedId,
        });
        return reply.status(202).send(submitted);
      } catch (error) {
        if (error instanceof FeedFormatError) throw new HttpError(400, { error: 'invalid_feed', message: error.message });
        if (error instanceof StockRefusal) throw fieldError(404, error.code, error.field, error.message);
        throw error;
      }
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
    async ({ params }) => {
      const [feed] = await deps.database.db
        .select({ status: supplierFeeds.status, lineCount: supplierFeeds.lineCount, summary: supplierFeeds.summary, receivedAt: supplierFeeds.receivedAt, completedAt: supplierFeeds.completedAt })
        .from(supplierFeeds)
        .where(and(eq(supplierFeeds.supplierId, params.supplierId), eq(supplierFeeds.feedId, params.feedId)));
      if (!feed) throw fieldError(404, 'not_found', 'feedId', `no feed "${params.feedId}" from ${params.supplierId}`);
      const workflowId = workflowIds.feed(params.supplierId, params.feedId);
      const progress = feed.status === 'applied' || feed.status === 'discarded' ? undefined : await deps.client.workflow.getHandle(workflowId).query(feedProgressQuery).catch(() => undefined);
      return { supplierId: params.supplierId, feedId: params.feedId, workflowId, ...feed, progress };
    },
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
      body: z.object({ name: z.string().trim().min(1).max(200), location: LocationCode }),
      responses: { 200: { description: 'saved' }, 400: { description: 'invalid or unknown location', schema: ErrorBody } },
    },
    async ({ params, body }) => {
      await refusalsAre400(() => registerSupplier(deps.database.db, { id: params.supplierId, ...body }));
      return { supplierId: params.supplierId, ...body };
    },
  );

  route(
    app,
    {
      method: 'PUT',
      url: '/v1/suppliers/:supplierId/sku-map',
      summary: 'Map supplier SKUs to our SKUs, with how many base units one supplier unit holds',
      tags: ['feeds'],
      access: 'operator',
      params: SupplierParams,
      body: z.object({
        entries: z
          .array(z.object({ supplierSku: z.string().trim().min(1).max(64), sku: Sku, unitFactor: z.number().int().positive().default(1) }))
          .min(1)
          .max(10_000),
      }),
      responses: { 200: { description: 'saved' }, 400: { description: 'invalid or unknown SKU', schema: ErrorBody } },
    },
    async ({ params, body }) => {
      await refusalsAre400(() => mapSupplierSkus(deps.database.db, params.supplierId, body.entries));
      return { supplierId: params.supplierId, mapped: body.entries.length };
    },
  );
}

async function refusalsAre400(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof StockRefusal) throw fieldError(400, error.code, error.field, error.message);
    throw error;
  }
}
