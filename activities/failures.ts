import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { StockRefusal } from '../db/errors';
import { describeIssues } from '../schemas/issues';

/** Parses an activity's input; bad input is a non-retryable failure naming the fields. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error);
  throw ApplicationFailure.create({
    type: 'invalid_input',
    message: issues.map((i) => `${i.field}: ${i.reason}`).join('; '),
    nonRetryable: true,
    details: [{ issues }],
  });
}

/** Business refusals must not be retried: the same request would be refused again. */
export async function refusalsAreFinal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StockRefusal) {
      throw ApplicationFailure.create({
        type: error.code,
        message: error.message,
        nonRetryable: true,
        details: [{ field: error.field }],
      });
    }
    throw error;
  }
}
