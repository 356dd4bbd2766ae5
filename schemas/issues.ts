import type { z } from 'zod';

export interface FieldIssue {
  field: string;
  reason: string;
}

/** Flattens zod issues into `{ field, reason }` pairs a client can act on. */
export function describeIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)',
    reason: issue.message,
  }));
}

export function formatIssues(error: z.ZodError): string {
  return describeIssues(error)
    .map(({ field, reason }) => `${field}: ${reason}`)
    .join('; ');
}
