import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  ApproveSuggestion,
  PurchaseSuggestion,
  RejectSuggestion,
  ReorderPolicies,
  ReorderPolicyQuery,
  StoredReorderPolicy,
  SuggestionQuery,
} from '../../schemas/replenishment';
import {
  approvePurchaseSuggestion,
  getPurchaseSuggestions,
  getReorderPolicies,
  putReorderPolicies,
  putReorderPoliciesCsv,
  rejectPurchaseSuggestion,
} from '../../services/replenishment';
import { actorOf } from '../access';
import { ErrorBody, Refusal } from '../errors';
import { route } from '../route';
import { services, type ApiDeps } from '../server';

const IdParams = z.object({ id: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive') });

export function registerReplenishmentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  route(
    app,
    {
      method: 'PUT',
      url: '/v1/reorder-policies',
      summary:
        'Create or replace the reorder policies of SKU-locations in bulk (static: fixed point and quantity; dynamic: from demand), as JSON or as text/csv with the header kind,sku,location,supplier_id,reorder_point,order_quantity,safety_days,target_days,window_days,service_level',
      tags: ['replenishment'],
      access: 'operator',
      principalField: 'by',
      // Left out when the body is CSV: the CSV parser keeps the text as it came (request.rawBody).
      body: ReorderPolicies.optional(),
      responses: {
        200: { description: 'saved, all or none', schema: z.object({ saved: z.number().int() }) },
        400: { description: 'an invalid policy or an unknown SKU or location, naming it (in CSV: every bad cell by row and column)', schema: ErrorBody },
        404: { description: 'an unknown or archived supplier', schema: ErrorBody },
        415: { description: 'neither application/json nor text/csv', schema: ErrorBody },
      },
    },
    async ({ body, request }) => {
      if (body) return putReorderPolicies(services(deps), body);
      if (request.rawBody === undefined) throw new Refusal('unsupported_media_type', 'send the policies as application/json or text/csv');
      return putReorderPoliciesCsv(services(deps), request.rawBody, actorOf(request));
    },
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/reorder-policies',
      summary: 'Reorder policies, optionally of one location or supplier',
      tags: ['replenishment'],
      access: 'operator',
      query: ReorderPolicyQuery,
      responses: { 200: { description: 'the policies by SKU and location', schema: z.array(StoredReorderPolicy) } },
    },
    async ({ query }) => getReorderPolicies(services(deps), query),
  );

  route(
    app,
    {
      method: 'GET',
      url: '/v1/purchase-suggestions',
      summary: 'Purchase suggestions, one per supplier per replenishment run, with each line and its reason',
      tags: ['replenishment'],
      access: 'operator',
      query: SuggestionQuery,
      responses: { 200: { description: 'the suggestions', schema: z.array(PurchaseSuggestion) } },
    },
    async ({ query }) => getPurchaseSuggestions(services(deps), query),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/purchase-suggestions/:id/approve',
      summary: 'Approve a purchase suggestion, optionally with edited line quantities, as the authenticated buyer; closes the exception that holds it',
      tags: ['replenishment'],
      access: 'operator',
      role: 'approver',
      principalField: 'by',
      params: IdParams,
      body: ApproveSuggestion,
      responses: {
        200: { description: 'approved, value recomputed at the approved quantities', schema: PurchaseSuggestion },
        400: { description: 'a quantity for a line the suggestion lacks', schema: ErrorBody },
        403: { description: 'not entitled to decide the exception that holds it', schema: ErrorBody },
        404: { description: 'no such suggestion', schema: ErrorBody },
        409: { description: 'already decided, or not held for a buyer', schema: ErrorBody },
      },
    },
    async ({ params, body }) => approvePurchaseSuggestion(services(deps), params.id, body),
  );

  route(
    app,
    {
      method: 'POST',
      url: '/v1/purchase-suggestions/:id/reject',
      summary: 'Reject a purchase suggestion as the authenticated buyer; closes the exception that holds it',
      tags: ['replenishment'],
      access: 'operator',
      role: 'approver',
      principalField: 'by',
      params: IdParams,
      body: RejectSuggestion,
      responses: {
        200: { description: 'rejected', schema: PurchaseSuggestion },
        403: { description: 'not entitled to decide the exception that holds it', schema: ErrorBody },
        404: { description: 'no such suggestion', schema: ErrorBody },
        409: { description: 'already decided, or not held for a buyer', schema: ErrorBody },
      },
    },
    async ({ params, body }) => rejectPurchaseSuggestion(services(deps), params.id, body),
  );
}
