import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

export interface Refusal {
  code: string;
  message: string;
  field?: string;
}

/** The business refusal inside a failed activity call, if that is what it was. */
export function refusalOf(error: unknown): Refusal | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return undefined;
  const cause = error.cause;
  if (!cause.nonRetryable || !cause.type) return undefined;
  const detail = (cause.details?.[0] ?? {}) as { field?: string };
  return { code: cause.type, message: cause.message, field: detail.field };
}
