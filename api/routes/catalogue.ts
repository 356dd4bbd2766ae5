import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../../domain/refusal';
import {
  addItemVariant,
  archiveItem,
  archiveLocation,
  archiveVariant,
  createItem,
  importStatus,
  item,
  itemsPage,
  location,
  locationsPage,
  restoreItem,
  restoreLocation,
  restoreVariant,
  saveLocation,
  saveSupplierVariants,
  submitImport,
  supplier,
  suppliersPage,
  updateItem,
  updateVariant,
  variant,
  variantsPage,
} from '../../services/catalogue';
import { Archival, ImportId, ImportOptions, ItemCreate, ItemUpdate, ListQuery, LocationUpsert, SupplierVariants, VariantFields, VariantUpdate } from '../../schemas/catalogue';
import { LocationCode, Sku } from '../../schemas/common';
import { SupplierId } from '../../schemas/feeds';
import { actorOf } from '../access';
import { ErrorBody } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';
import type { Services } from '../../services/context';

const ItemParams = z.object({ itemId: z.coerce.number().int().positive().max(2_147_483_647) });
const SkuParams = z.object({ sku: Sku });
const LocationParams = z.object({ code: LocationCode });
const ArchiveOutcome = z.object({ archivedAt: z.string().nullable(), changed: z.boolean() });
const Page = z.object({ items: z.array(z.unknown()), nextCursor: z.string().nullable() });
const ImportAccepted = z.object({ importId: z.string(), workflowId: z.string(), rows: z.number(), new: z.boolean() });

const listed = (what: string) => ({
  200: { description: `a page of ${what} (nextCursor: null on the last page)`, schema: Page },
  400: { description: 'invalid filter', schema: ErrorBody },
  404: { description: 'a cursor this list did not give out', schema: ErrorBody },
});

export function registerCatalogueRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const s = () => services(deps);
  const tags = ['catalogue'];

  route(
    app,
    {
      method: 'POST',
      url: '/v1/items',
      summary: 'Create an item (a product) with its variants: SKU, barcode, options, unit, pack size, price and cost',
      tags,
      access: 'operator',
      body: ItemCreate,
      responses: {
        201: { description: 'created' },
        400: { description: 'invalid item', schema: ErrorBody },
        409: { description: 'the handle or a SKU exists already', schema: ErrorBody },
      },
    },
    async ({ body, request, reply }) => reply.status(201).send(await createItem(s(), body, actorOf(request))),
  );
  route(app, { method: 'GET', url: '/v1/items', summary: 'List items (filters: text, tag, location, archived)', tags, access: 'operator', query: ListQuery, responses: listed('items') }, async ({ query }) =>
    itemsPage(s(), query),
  );
  route(
    app,
    { method: 'GET', url: '/v1/items/:itemId', summary: 'An item with its variants and current prices', tags, access: 'operator', params: ItemParams, responses: { 200: { description: 'the item' }, 404: { description: 'no such item', schema: ErrorBody } } },
    async ({ params }) => item(s(), params.itemId),
  );
  route(
    app,
    {
      method: 'PUT',
      url: '/v1/items/:itemId',
      summary: 'Change an item: only the fields sent change (tags are replaced)',
      tags,
      access: 'operator',
      params: ItemParams,
      body: ItemUpdate,
      responses: { 200: { description: 'the item as it is now' }, 400: { description: 'invalid', schema: ErrorBody }, 404: { description: 'no such item', schema: ErrorBody } },
    },
    async ({ params, body, request }) => updateItem(s(), params.itemId, body, actorOf(request)),
  );
  route(
    app,
    {
      method: 'POST',
      url: '/v1/items/:itemId/variants',
      summary: 'Add a variant (SKU) to an item',
      tags,
      access: 'operator',
      params: ItemParams,
      body: VariantFields,
      responses: { 201: { description: 'created' }, 404: { description: 'no such item', schema: ErrorBody }, 409: { description: 'the SKU exists already', schema: ErrorBody } },
    },
    async ({ params, body, request, reply }) => reply.status(201).send(await addItemVariant(s(), params.itemId, body, actorOf(request))),
  );
  route(app, { method: 'GET', url: '/v1/variants', summary: 'List variants (filters: text, tag, location, archived)', tags, access: 'operator', query: ListQuery, responses: listed('variants') }, async ({ query }) =>
    variantsPage(s(), query),
  );
  route(
    app,
    { method: 'GET', url: '/v1/variants/:sku', summary: 'A variant with its price and cost history', tags, access: 'operator', params: SkuParams, responses: { 200: { description: 'the variant' }, 404: { description: 'no such SKU', schema: ErrorBody } } },
    async ({ params }) => variant(s(), params.sku),
  );
  route(
    app,
    {
      method: 'PUT',
      url: '/v1/variants/:sku',
      summary: 'Change a variant; a price, cost or currency appends a row to its price history (the past is never rewritten)',
      tags,
      access: 'operator',
      params: SkuParams,
      body: VariantUpdate,
      responses: { 200: { description: 'the variant as it is now' }, 400: { description: 'invalid, or unknown SKU', schema: ErrorBody } },
    },
    async ({ params, body, request }) => updateVariant(s(), params.sku, body, actorOf(request)),
  );

  archivalRoutes(app, 'items', ':itemId', 'item', ItemParams, (p) => p.itemId, archiveItem, restoreItem, s);
  archivalRoutes(app, 'variants', ':sku', 'variant', SkuParams, (p) => p.sku, archiveVariant, restoreVariant, s);
  archivalRoutes(app, 'locations', ':code', 'location', LocationParams, (p) => p.code, archiveLocation, restoreLocation, s);

  route(
    app,
    {
      method: 'PUT',
      url: '/v1/locations/:code',
      summary: 'Create or change a location: its kind (warehouse, store, drop_ship, supplier_managed) and the channels it sells to',
      tags,
      access: 'operator',
      params: LocationParams,
      body: LocationUpsert,
      responses: { 200: { description: 'saved' }, 400: { description: 'invalid', schema: ErrorBody } },
    },
    async ({ params, body, request }) => saveLocation(s(), params.code, body, actorOf(request)),
  );
  route(app, { method: 'GET', url: '/v1/locations', summary: 'List locations (filters: text, tag = a channel, archived)', tags, access: 'operator', query: ListQuery, responses: listed('locations') }, async ({ query }) =>
    locationsPage(s(), query),
  );
  route(
    app,
    { method: 'GET', url: '/v1/locations/:code', summary: 'A location with how many balances it holds', tags, access: 'operator', params: LocationParams, responses: { 200: { description: 'the location' }, 404: { description: 'no such location', schema: ErrorBody } } },
    async ({ params }) => location(s(), params.code),
  );

  route(app, { method: 'GET', url: '/v1/suppliers', summary: 'List suppliers (filters: text, tag, location, archived)', tags, access: 'operator', query: ListQuery, responses: listed('suppliers') }, async ({ query }) =>
    suppliersPage(s(), query),
  );
  route(
    app,
    {
      method: 'GET',
      url: '/v1/suppliers/:supplierId',
      summary: 'A supplier: terms (lead time, MOQ, pack size, currency) and the variants it supplies at what cost',
      tags,
      access: 'operator',
      params: z.object({ supplierId: SupplierId }),
      responses: { 200: { description: 'the supplier' }, 404: { description: 'no such supplier', schema: ErrorBody } },
    },
    async ({ params }) => supplier(s(), params.supplierId),
  );
  route(
    app,
    {
      method: 'PUT',
      url: '/v1/suppliers/:supplierId/variants',
      summary: 'Which variants a supplier supplies and at what cost (listed ones are added or updated)',
      tags,
      access: 'operator',
      params: z.object({ supplierId: SupplierId }),
      body: SupplierVariants,
      responses: {
        200: { description: 'saved', schema: z.object({ supplierId: z.string(), saved: z.number() }) },
        400: { description: 'invalid or unknown SKU', schema: ErrorBody },
        404: { description: 'unknown supplier', schema: ErrorBody },
        409: { description: 'the supplier is archived', schema: ErrorBody },
      },
    },
    async ({ params, body }) => saveSupplierVariants(s(), params.supplierId, body.entries),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/catalogue/imports',
      summary:
        'Import a catalogue (format stockflow as JSON or CSV, shopify-products or shopify-inventory as CSV): stored, checked whole, then applied in chunks by the catalogueImport workflow',
      tags,
      access: 'operator',
      query: ImportOptions,
      bodyLimit: deps.importBodyLimitBytes,
      responses: {
        202: { description: 'stored and being imported (new: false when the same import was received before)', schema: ImportAccepted },
        400: { description: 'not an import of that format (no header, not JSON)', schema: ErrorBody },
        409: { description: 'the import id was used for a different file or options', schema: ErrorBody },
        413: { description: 'larger than the import size limit', schema: ErrorBody },
        415: { description: 'neither application/json nor text/csv (Shopify exports: text/csv)', schema: ErrorBody },
      },
    },
    async ({ query, request, reply }) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0].trim();
      const contentType = type === 'text/csv' ? 'csv' : type === 'application/json' ? 'json' : undefined;
      if (!contentType) throw new Refusal('unsupported_media_type', 'send the file as application/json or text/csv');
      const submitted = await submitImport(s(), { ...query, contentType, body: request.rawBody ?? '' });
      return reply.status(202).send(submitted);
    },
  );
  route(
    app,
    {
      method: 'GET',
      url: '/v1/catalogue/imports/:importId',
      summary: 'A catalogue import: status, progress while it runs, and its report (every refused row with column and reason, skipped rows, ignored columns, what was applied)',
      tags,
      access: 'operator',
      params: z.object({ importId: ImportId }),
      responses: { 200: { description: 'the import' }, 404: { description: 'no such import', schema: ErrorBody } },
    },
    async ({ params }) => importStatus(s(), params.importId),
  );
}

type Change<K> = (s: Services, key: K, by: Archival) => Promise<unknown>;

function archivalRoutes<P extends z.ZodType, K>(
  app: FastifyInstance,
  collection: string,
  param: string,
  what: string,
  params: P,
  keyOf: (p: z.infer<P>) => K,
  archive: Change<K>,
  restore: Change<K>,
  s: () => Services,
): void {
  for (const [action, change] of [
    ['archive', archive],
    ['restore', restore],
  ] as const) {
    route(
      app,
      {
        method: 'POST',
        url: `/v1/${collection}/${param}/${action}`,
        summary:
          action === 'archive'
            ? `Archive a ${what}: its history stays, archived SKUs refuse new reservations; refused while it holds stock (on hand, reserved or committed)`
            : `Restore an archived ${what}`,
        tags: ['catalogue'],
        access: 'operator',
        principalField: 'by',
        params,
        body: Archival,
        responses: {
          200: { description: `${action}d (changed: false when it already was)`, schema: ArchiveOutcome },
          400: { description: 'invalid, unknown SKU or location', schema: ErrorBody },
          404: { description: `no such ${what}`, schema: ErrorBody },
          409: { description: 'it still holds stock (archive_has_stock)', schema: ErrorBody },
        },
      },
      async ({ params: p, body }) => change(s(), keyOf(p), body),
    );
  }
}
