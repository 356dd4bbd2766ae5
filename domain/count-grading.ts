import type { CountStatus } from '../schemas/stock';

/** Variance (as a share of the expected on-hand) above which a SKU is flagged, then stopped selling. */
export const COUNT_INVESTIGATE_PCT = 5;
export const COUNT_BLOCK_PCT = 10;

const SEVERITY: Record<CountStatus, number> = { ok: 0, investigate: 1, blocked: 2 };

export interface CountGrade {
  variance: number;
  variancePct: number;
  outcome: CountStatus;
}

/** What a count found against what the ledger expected, and what that means for selling. */
export function gradeCount(expected: number, counted: number): CountGrade {
  const variancePct = variancePercent(expected, counted);
  return { variance: counted - expected, variancePct, outcome: countOutcome(variancePct) };
}

/** The share of the expected on-hand that a count differs by; anything found where nothing was expected is 100%. */
export function variancePercent(expected: number, counted: number): number {
  if (expected === counted) return 0;
  if (expected <= 0) return 100;
  return Math.round((Math.abs(counted - expected) / expected) * 10_000) / 100;
}

export function countOutcome(variancePct: number): CountStatus {
  if (variancePct > COUNT_BLOCK_PCT) return 'blocked';
  if (variancePct > COUNT_INVESTIGATE_PCT) return 'investigate';
  return 'ok';
}

/**
 * A balance's count status after a count: the graver of the two. A clean recount does not lift an
 * earlier flag; someone has to resolve it on purpose.
 */
export function statusAfterCount(current: CountStatus, outcome: CountStatus): CountStatus {
  return SEVERITY[outcome] > SEVERITY[current] ? outcome : current;
}
