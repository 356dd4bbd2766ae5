import { gradeCount } from './count-grading';
import { Refusal } from './refusal';

/**
 * What a counter's submission does to each line of a count task (blind counts with a recount by
 * someone else). Pure: db/counting.ts reads the lines, applies the steps in one transaction.
 *
 * A line goes `to_count` → (first count within tolerance) `posting` → `posted`, or `to_count` →
 * (variance over 5%) `recount` → (someone else's recount) `posting` → `posted`. What posts is the
 * within-tolerance first count or the recount, through the ordinary cycle count (whose grading
 * then investigates or stops selling as always).
 */
export type LineStatus = 'to_count' | 'recount' | 'posting' | 'posted';

export interface LineState {
  sku: string;
  status: LineStatus;
  firstCounted?: number;
  firstBy?: string;
  recountCounted?: number;
  recountBy?: string;
}

export interface SubmittedLine {
  sku: string;
  counted: number;
}

export type Step =
  | { sku: string; action: 'first'; counted: number }
  | { sku: string; action: 'recount'; counted: number }
  /** The same person sending the same figure again: changes nothing (a post still pending is retried). */
  | { sku: string; action: 'resend' };

/** A first count is within tolerance when its variance grades `ok` (≤ 5%, domain/count-grading.ts). */
export function withinTolerance(expected: number, counted: number): boolean {
  return gradeCount(expected, counted).outcome === 'ok';
}

/** The step for every submitted line, or a refusal naming the first line that cannot be taken (nothing is then applied). */
export function planSubmission(taskId: number, lines: readonly LineState[], submitted: readonly SubmittedLine[], by: string): Step[] {
  const bySku = new Map(lines.map((l) => [l.sku, l]));
  const seen = new Set<string>();
  return submitted.map((entry, i) => {
    const at = `lines.${i}`;
    const line = bySku.get(entry.sku);
    if (!line) throw new Refusal('invalid_lines', `${at}.sku: count task ${taskId} has no line for ${entry.sku}`, `${at}.sku`);
    if (seen.has(entry.sku)) throw new Refusal('invalid_lines', `${at}.sku: ${entry.sku} is submitted twice`, `${at}.sku`);
    seen.add(entry.sku);
    return stepFor(line, entry, by, at);
  });
}

function stepFor(line: LineState, entry: SubmittedLine, by: string, at: string): Step {
  const sameAsFirst = line.firstBy === by && line.firstCounted === entry.counted;
  const sameAsRecount = line.recountBy === by && line.recountCounted === entry.counted;
  switch (line.status) {
    case 'to_count':
      return { sku: entry.sku, action: 'first', counted: entry.counted };
    case 'recount':
      if (sameAsFirst) return { sku: entry.sku, action: 'resend' };
      if (line.firstBy === by) {
        throw new Refusal(
          'recount_by_other',
          `${at}: ${entry.sku} needs a recount by someone other than ${by}, who counted it first (a variance over 5% is recounted by a second person)`,
          at,
        );
      }
      return { sku: entry.sku, action: 'recount', counted: entry.counted };
    case 'posting':
    case 'posted':
      if (sameAsFirst || sameAsRecount) return { sku: entry.sku, action: 'resend' };
      throw new Refusal('already_counted', `${at}: ${entry.sku} on this task is already counted; a new figure needs a new count`, at);
  }
}
