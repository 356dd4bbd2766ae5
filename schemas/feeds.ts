import { z } from 'zod';
import { notPlaceholder, PLACEHOLDER_REASON } from './common';
import { MOVEMENT_LIMIT } from '../domain/balance';

export const SupplierId = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"')
  .refine(notPlaceholder, PLACEHOLDER_REASON);

export const FeedId = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits and . _ : -')
  .refine(notPlaceholder, PLACEHOLDER_REASON);

/** A whole number, also when it arrives as CSV text. */
const wholeNumber = (what: string) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : v),
    z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`),
  );

/**
 * One line of a supplier feed: the supplier's current quantity of one of their SKUs, with the
 * supplier's sequence number for it (higher is newer).
 */
export const FeedLine = z.object({
  sku: z.string({ error: 'must be the supplier SKU' }).trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  quantity: wholeNumber('quantity').pipe(
    z.number().min(-MOVEMENT_LIMIT, 'must be at least -1,000,000,000').max(MOVEMENT_LIMIT, 'must be at most 1,000,000,000'),
  ),
  sequence: wholeNumber('sequence').pipe(z.number().min(0, 'must not be negative').max(Number.MAX_SAFE_INTEGER)),
});
export type FeedLine = z.infer<typeof FeedLine>;

/** The JSON form of a feed. CSV feeds carry the same three columns with a header row. */
export const FeedDocument = z.object({
  feedId: FeedId.optional(),
  lines: z.array(z.unknown(), { error: 'must be an array of lines' }).max(1_000_000, 'must have at most 1,000,000 lines'),
});

/** Thresholds of the rules a feed line must pass before it may change stock; their defaults are configuration (schemas/config.ts). */
export const FeedRules = z.object({
  /** A change is a spike when it is at least this many units… */
  spikeAbsolute: z.number().int().positive(),
  /** …and more than this share of the last known quantity (0.5 = 50%). */
  spikeRelative: z.number().positive(),
  /** The whole feed is quarantined when more than this share of its lines is negative or spiking… */
  quarantineShare: z.number().gt(0).max(1),
  /** …and it has at least this many lines (a tiny feed with one bad line is not "broken"). */
  quarantineMinLines: z.number().int().positive(),
  /** Lines per activity call. */
  chunkSize: z.number().int().positive().max(20_000),
});
export type FeedRules = z.infer<typeof FeedRules>;

export const LINE_OUTCOMES = ['applied', 'stale', 'duplicate', 'held', 'rejected', 'unmapped', 'discarded'] as const;
export type LineOutcome = (typeof LINE_OUTCOMES)[number];

export type FeedCounts = Record<LineOutcome, number> & { read: number };

// Pure counting lives in domain/ so the workflow bundle never pulls zod in.
export { addCounts, emptyCounts } from '../domain/feed-counts';
