import type { AbcClass } from './abc';

/**
 * Which SKU-locations are counted on a working day. Each class has a period in working days
 * (its frequency in calendar days × 5/7); within a location and class the SKU-locations are put
 * in a stable order (by a hash of SKU and location, so the order does not follow the alphabet) and
 * the i-th is counted on the working days whose index ≡ i (mod period). Over any period every
 * SKU-location is due exactly once, and a day's load of a class differs from another day's by at
 * most one. Anything not counted for more than a period (a missed task, a class change) is due as
 * overdue. Pure: db/counting.ts gives it the SKU-locations and their last counts.
 */

export type CountFrequencies = Record<AbcClass, number>;

export interface CountCandidate {
  sku: string;
  location: string;
  abcClass: AbcClass;
  /** The UTC day (YYYY-MM-DD) of its last cycle count, if any. */
  lastCountedOn?: string;
  /** Already on a count task still open: not given out again. */
  onOpenTask: boolean;
}

export interface DueCount {
  sku: string;
  location: string;
  abcClass: AbcClass;
  reason: 'scheduled' | 'overdue';
}

const DAY_MS = 86_400_000;
/** 1970-01-05, a Monday: working day 0. */
const EPOCH_MONDAY = Date.UTC(1970, 0, 5);

function dayNumber(day: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`day: "${day}" is not a YYYY-MM-DD date`);
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new Error(`day: "${day}" is not a date`);
  return Math.round((ms - EPOCH_MONDAY) / DAY_MS);
}

export function isWorkingDay(day: string): boolean {
  return ((dayNumber(day) % 7) + 7) % 7 < 5;
}

/** Working days (Mon–Fri) since the epoch Monday; a Saturday or Sunday counts as the Friday before it. */
export function workingDayIndex(day: string): number {
  const n = dayNumber(day);
  const weeks = Math.floor(n / 7);
  return weeks * 5 + Math.min(n - weeks * 7, 4);
}

/** A class's period in working days: its frequency in calendar days, at five working days a week. */
export function periodInWorkingDays(frequencyDays: number): number {
  return Math.max(1, Math.round((frequencyDays * 5) / 7));
}

/** FNV-1a, 32 bits: a stable order that does not depend on the platform or on insertion. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Each SKU-location's slot within its class's period: stable order, then round robin over the period. */
export function countSlots(candidates: readonly Pick<CountCandidate, 'sku' | 'location' | 'abcClass'>[], frequencies: CountFrequencies): Map<string, number> {
  const groups = new Map<string, Pick<CountCandidate, 'sku' | 'location' | 'abcClass'>[]>();
  for (const c of candidates) {
    const key = `${c.location}\u0000${c.abcClass}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const slots = new Map<string, number>();
  for (const group of groups.values()) {
    const period = periodInWorkingDays(frequencies[group[0].abcClass]);
    const ordered = group
      .map((c) => ({ c, h: stableHash(`${c.sku}@${c.location}`) }))
      .sort((x, y) => x.h - y.h || (x.c.sku < y.c.sku ? -1 : x.c.sku > y.c.sku ? 1 : 0));
    ordered.forEach(({ c }, i) => slots.set(placeKey(c), i % period));
  }
  return slots;
}

function placeKey(c: { sku: string; location: string }): string {
  return `${c.sku}@${c.location}`;
}

/** The SKU-locations to count on `day`: none on a weekend; on a working day, those in the day's slot plus the overdue. */
export function dueOn(day: string, candidates: readonly CountCandidate[], frequencies: CountFrequencies): DueCount[] {
  if (!isWorkingDay(day)) return [];
  const today = workingDayIndex(day);
  const slots = countSlots(candidates, frequencies);
  const due: DueCount[] = [];
  for (const c of candidates) {
    if (c.onOpenTask) continue;
    const period = periodInWorkingDays(frequencies[c.abcClass]);
    const scheduled = today % period === slots.get(placeKey(c));
    const overdue = c.lastCountedOn !== undefined && today - workingDayIndex(c.lastCountedOn) > period;
    if (scheduled || overdue) due.push({ sku: c.sku, location: c.location, abcClass: c.abcClass, reason: scheduled ? 'scheduled' : 'overdue' });
  }
  return due.sort((x, y) => (x.location < y.location ? -1 : x.location > y.location ? 1 : x.sku < y.sku ? -1 : x.sku > y.sku ? 1 : 0));
}
