import { z } from 'zod';
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
