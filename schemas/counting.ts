import { z } from 'zod';
import { LocationCode, NonNegativeQuantity, Sku } from './common';
import { OwnerId } from './ownership';

export const AbcClass = z.enum(['A', 'B', 'C']);

const percent = z.coerce.number<string>({ error: 'must be a number' }).min(0, 'must be at least 0').max(100, 'must be at most 100');
const days = z.coerce.number<string>({ error: 'must be a number' }).int('must be a whole number of days').min(1, 'must be at least 1 day').max(3650, 'must be at most 3650 days');

/** `STOCKFLOW_ABC_SHARES`: the percent of SKUs that are A, then B (`20,30`); the rest are C. */
export const AbcSharesText = z
  .string()
  .default('20,30')
  .transform((text) => text.split(',').map((part) => part.trim()))
  .pipe(z.tuple([percent, percent], { error: 'must be two percentages, A then B, e.g. 20,30' }))
  .refine(([a, b]) => a + b <= 100, 'A and B together must be at most 100%')
  .transform(([a, b]) => ({ a, b }));

/** `STOCKFLOW_COUNT_FREQUENCY_DAYS`: how often an A, B and C SKU is counted, in days (`7,30,90`). */
export const CountFrequencyText = z
  .string()
  .default('7,30,90')
  .transform((text) => text.split(',').map((part) => part.trim()))
  .pipe(z.tuple([days, days, days], { error: 'must be three numbers of days, A then B then C, e.g. 7,30,90' }))
  .transform(([A, B, C]) => ({ A, B, C }));

/** How the counting programme classes SKUs and how often it counts them (configuration: schemas/config.ts). */
export interface CountingRules {
  shares: { a: number; b: number };
  windowDays: number;
  frequencies: { A: number; B: number; C: number };
}

export const AbcEntry = z.object({
  sku: Sku,
  abcClass: AbcClass,
  revenue: z.number(),
  rank: z.number().int(),
  windowDays: z.number().int(),
  computedAt: z.string(),
});
export type AbcEntry = z.infer<typeof AbcEntry>;

export const AbcQuery = z.object({ abcClass: AbcClass.optional() });

export const AbcRun = z.object({
  computedAt: z.string(),
  windowDays: z.number().int(),
  classes: z.object({ A: z.number().int(), B: z.number().int(), C: z.number().int() }),
});
export type AbcRun = z.infer<typeof AbcRun>;

/** A calendar day, YYYY-MM-DD, that exists (no 2026-02-30) in years Postgres and people use. */
export const WorkingDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .refine((day) => {
    const at = new Date(`${day}T00:00:00Z`);
    return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === day && at.getUTCFullYear() >= 1970 && at.getUTCFullYear() <= 9999;
  }, 'must be a real date between 1970-01-01 and 9999-12-31');

/** What a counter sees of a line: the SKU and where, never the expected figure nor another person's count. */
export const CountLineView = z.object({
  sku: Sku,
  abcClass: AbcClass,
  /** to_count; recount (by someone other than `countedBy`); posting; posted. */
  status: z.enum(['to_count', 'recount', 'posting', 'posted']),
  countedBy: z.string().nullable(),
  recountedBy: z.string().nullable(),
});

export const CountTaskView = z.object({
  id: z.number().int(),
  taskKey: z.string(),
  location: LocationCode,
  day: WorkingDay,
  status: z.enum(['open', 'done']),
  exceptionWorkflowId: z.string(),
  lines: z.array(CountLineView),
});
export type CountTaskView = z.infer<typeof CountTaskView>;

export const CountTaskQuery = z.object({
  day: WorkingDay.optional(),
  location: LocationCode.optional(),
  status: z.enum(['open', 'done']).optional(),
});
export type CountTaskQuery = z.infer<typeof CountTaskQuery>;

export const CountSubmission = z.object({
  /** Filled with the authenticated counter (api/access.ts). */
  by: OwnerId,
  lines: z
    .array(z.object({ sku: Sku, counted: NonNegativeQuantity }))
    .min(1, 'must list at least one counted SKU')
    .max(10_000, 'must be at most 10,000 lines'),
});
export type CountSubmission = z.infer<typeof CountSubmission>;

export const CountLineResult = z.object({
  sku: Sku,
  /** posted: the figure is on the ledger; recount_required: over tolerance, someone else must count it again. */
  result: z.enum(['posted', 'recount_required']),
  /** The posted cycle count's grade: ok, investigate (> 5%) or blocked (> 10%, selling stopped). */
  outcome: z.enum(['ok', 'investigate', 'blocked']).optional(),
});

export const CountSubmissionResult = z.object({ task: CountTaskView, lines: z.array(CountLineResult) });
export type CountSubmissionResult = z.infer<typeof CountSubmissionResult>;

export const AccuracyQuery = z.object({
  /** Only first counts on or after this day. */
  since: WorkingDay.optional(),
  location: LocationCode.optional(),
});
export type AccuracyQuery = z.infer<typeof AccuracyQuery>;

const accuracyFigures = {
  counted: z.number().int(),
  withinTolerance: z.number().int(),
  /** withinTolerance / counted; null when nothing was counted. */
  accuracy: z.number().nullable(),
};
export const CountAccuracy = z.object({
  byLocationAndClass: z.array(z.object({ location: LocationCode, abcClass: AbcClass, ...accuracyFigures })),
  byClass: z.array(z.object({ abcClass: AbcClass, ...accuracyFigures })),
});
export type CountAccuracy = z.infer<typeof CountAccuracy>;

export const PlanCountsRequest = z.object({ day: WorkingDay });
