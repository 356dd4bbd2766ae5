import { z } from 'zod';
import { Refusal, type RefusalCode } from '../domain/refusal';
import { describeIssues, type FieldIssue } from '../schemas/issues';

export const ErrorBody = z.object({
  error: z.string().describe('stable machine-readable code'),
  message: z.string().describe('what was wrong, for a person'),
  issues: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error the API answers with its own status and body; anything else is a 500. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

export function invalidRequest(error: z.ZodError, where: 'body' | 'params' | 'query'): HttpError {
  const issues: FieldIssue[] = describeIssues(error);
  return new HttpError(400, {
    error: 'invalid_request',
    message: `invalid ${where}: ${issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`,
    issues,
  });
}

export function fieldError(statusCode: number, error: string, field: string | undefined, reason: string): HttpError {
  return new HttpError(statusCode, {
    error,
    message: field ? `${field}: ${reason}` : reason,
    issues: field ? [{ field, reason }] : undefined,
  });
}

/** The one place a refusal becomes an HTTP status. */
const REFUSAL_STATUS: Record<RefusalCode, number> = {
  unknown_sku: 400,
  unknown_location: 400,
  unknown_reservation: 400,
  invalid_feed: 400,
  invalid_snapshot: 400,
  invalid_lines: 400,
  decision_refused: 403,
  unknown_supplier: 404,
  not_found: 404,
  insufficient_stock: 409,
  negative_not_allowed: 409,
  selling_blocked: 409,
  reservation_not_active: 409,
  reservation_not_committed: 409,
  idempotency_conflict: 409,
  ambiguous_order: 409,
  not_waiting: 409,
  already_resolved: 409,
  feed_conflict: 409,
  event_conflict: 409,
  supplier_archived: 409,
  sku_archived: 409,
  location_archived: 409,
  archive_has_stock: 409,
  already_exists: 409,
  item_archived: 409,
  import_conflict: 409,
  invalid_import: 400,
  cart_not_held: 409,
  principal_exists: 409,
  purchase_order_conflict: 409,
  purchase_order_not_open: 409,
  over_receipt: 409,
  recount_by_other: 403,
  already_counted: 409,
  unsupported_media_type: 415,
  quantity_out_of_range: 422,
};

/** A refusal a workflow reported with a code of its own (a data error its activity could not get past) is unprocessable. */
export function refusalResponse(refusal: Refusal): HttpError {
  return fieldError(REFUSAL_STATUS[refusal.code] ?? 422, refusal.code, refusal.field, refusal.message);
}

export { Refusal };
