import assert from 'node:assert/strict';
import { classifyByRevenue } from '../domain/abc';
import { countSlots, dueOn, isWorkingDay, periodInWorkingDays, workingDayIndex, type CountCandidate } from '../domain/count-schedule';
import { planSubmission, withinTolerance, type LineState } from '../domain/count-results';
import { Refusal } from '../domain/refusal';
import { countingRulesOf, EnvConfig } from '../schemas/config';

const SHARES = { a: 20, b: 30 };
const FREQUENCIES = { A: 7, B: 30, C: 90 };
const classesOf = (revenues: number[], shares = SHARES) =>
  classifyByRevenue(
    revenues.map((revenue, i) => ({ sku: `S${i + 1}`, revenue })),
    shares,
  ).map((c) => `${c.sku}:${c.abcClass}`);

/** The working days from `start` (a Monday), `n` of them, skipping weekends. */
function workingDaysFrom(start: string, n: number): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); days.length < n; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    if (isWorkingDay(day)) days.push(day);
  }
  return days;
}

const candidates = (n: number, abcClass: 'A' | 'B' | 'C', location = 'WH1'): CountCandidate[] =>
  Array.from({ length: n }, (_, i) => ({ sku: `${abcClass}-${i}`, location, abcClass, onOpenTask: false }));

describe('counting rules (domain)', () => {
  describe('ABC classes by revenue', () => {
    it('gives the top 20% A, the next 30% B and the rest C (ten SKUs: 2 A, 3 B, 5 C)', () => {
      assert.deepEqual(classesOf([100, 90, 80, 70, 60, 50, 40, 30, 20, 10]), ['S1:A', 'S2:A', 'S3:B', 'S4:B', 'S5:B', 'S6:C', 'S7:C', 'S8:C', 'S9:C', 'S10:C']);
    });

    it('never splits a tie: equal revenue at a cut takes the better class', () => {
      // Five SKUs: A cut ceil(1) = 1, A+B cut ceil(2.5) = 3.
      assert.deepEqual(classesOf([50, 50, 10, 5, 1]), ['S1:A', 'S2:A', 'S3:B', 'S4:C', 'S5:C']);
      assert.deepEqual(classesOf([9, 8, 7, 7, 7]), ['S1:A', 'S2:B', 'S3:B', 'S4:B', 'S5:B']);
      const ranks = classifyByRevenue([{ sku: 'X', revenue: 7 }, { sku: 'Y', revenue: 7 }, { sku: 'Z', revenue: 3 }], SHARES).map((c) => c.rank);
      assert.deepEqual(ranks, [1, 1, 3]);
    });

    it('puts SKUs with no sales in C, even inside the cuts', () => {
      assert.deepEqual(classesOf([10, 0, 0, 0, 0]), ['S1:A', 'S2:C', 'S3:C', 'S4:C', 'S5:C']);
      assert.deepEqual(classesOf([0, 0]), ['S1:C', 'S2:C']);
    });

    it('still has an A with few SKUs (cuts round up)', () => {
      assert.deepEqual(classesOf([5]), ['S1:A']);
      assert.deepEqual(classesOf([5, 3]), ['S1:A', 'S2:C'], 'two SKUs: the A cut is 1 and the A+B cut ceil(1) = 1');
      assert.deepEqual(classesOf([5, 3, 1]), ['S1:A', 'S2:B', 'S3:C'], 'three: A cut ceil(0.6) = 1, A+B cut ceil(1.5) = 2');
      assert.deepEqual(classifyByRevenue([], SHARES), []);
    });

    it('takes configured shares and refuses impossible ones', () => {
      assert.deepEqual(classesOf([4, 3, 2, 1], { a: 50, b: 50 }), ['S1:A', 'S2:A', 'S3:B', 'S4:B']);
      assert.throws(() => classifyByRevenue([], { a: 80, b: 30 }), /at most 100%/);
    });
  });

  describe('the count schedule', () => {
    it('turns frequencies into periods of working days and numbers working days from a Monday', () => {
      assert.deepEqual([periodInWorkingDays(7), periodInWorkingDays(30), periodInWorkingDays(90), periodInWorkingDays(1)], [5, 21, 64, 1]);
      assert.equal(workingDayIndex('1970-01-05'), 0);
      assert.equal(workingDayIndex('1970-01-09'), 4);
      assert.equal(workingDayIndex('1970-01-12'), 5);
      assert.equal(isWorkingDay('2026-12-05'), false, 'a Saturday');
      assert.equal(isWorkingDay('2026-12-07'), true, 'a Monday');
      assert.throws(() => workingDayIndex('2026-13-01'), /not a date/);
    });

    for (const [abcClass, n] of [['A', 23], ['B', 100], ['C', 200]] as const) {
      it(`counts every ${abcClass} SKU-location exactly once per period, the daily load even within ±1 (${n} SKUs)`, () => {
        const period = periodInWorkingDays(FREQUENCIES[abcClass]);
        const all = [...candidates(n, abcClass), ...candidates(7, abcClass, 'WH2')];
        const seen = new Map<string, number>();
        const loads: number[] = [];
        for (const day of workingDaysFrom('2026-11-30', period)) {
          const due = dueOn(day, all, FREQUENCIES).filter((d) => d.location === 'WH1');
          assert.ok(due.every((d) => d.reason === 'scheduled'));
          loads.push(due.length);
          for (const d of due) seen.set(d.sku, (seen.get(d.sku) ?? 0) + 1);
        }
        assert.equal(seen.size, n, 'every SKU-location is due within the period');
        assert.ok([...seen.values()].every((times) => times === 1), 'and only once');
        assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `daily loads ${loads.join(',')}`);
        assert.equal(loads.reduce((a, b) => a + b, 0), n);
      });
    }

    it('counts again one period later, and nothing at weekends', () => {
      const all = candidates(5, 'A');
      const [monday] = workingDaysFrom('2026-11-30', 1);
      const first = dueOn(monday, all, FREQUENCIES).map((d) => d.sku);
      assert.deepEqual(dueOn('2026-12-07', all, FREQUENCIES).map((d) => d.sku), first);
      assert.deepEqual(dueOn('2026-12-05', all, FREQUENCIES), []);
    });

    it('spreads by a stable order: the same input in another order gives the same slots', () => {
      const all = candidates(40, 'B');
      const slots = countSlots(all, FREQUENCIES);
      assert.deepEqual(countSlots([...all].reverse(), FREQUENCIES), slots);
      assert.notDeepEqual(all.slice(0, 21).map((c) => slots.get(`${c.sku}@${c.location}`)), Array.from({ length: 21 }, (_, i) => i), 'not the order of the names');
    });

    it('adds the overdue and leaves out what is already on an open task', () => {
      const day = '2026-12-02';
      const [notToday] = candidates(5, 'A').filter((c) => !dueOn(day, [c], FREQUENCIES).length);
      assert.ok(notToday, 'some A SKU-location is not due on this day');
      const overdue = { ...notToday, lastCountedOn: '2026-11-20' };
      assert.deepEqual(dueOn(day, [overdue], FREQUENCIES), [{ sku: overdue.sku, location: 'WH1', abcClass: 'A', reason: 'overdue' }]);
      const recent = { ...notToday, lastCountedOn: '2026-11-25' };
      assert.deepEqual(dueOn(day, [recent], FREQUENCIES), [], 'five working days is one period, not more');
      const scheduled = candidates(5, 'A').filter((c) => dueOn(day, [c], FREQUENCIES).length);
      assert.deepEqual(dueOn(day, scheduled.map((c) => ({ ...c, onOpenTask: true })), FREQUENCIES), []);
    });
  });

  describe('count results: blind counts and the recount', () => {
    const lines: LineState[] = [
      { sku: 'NEW', status: 'to_count' },
      { sku: 'OFF', status: 'recount', firstCounted: 38, firstBy: 'carl' },
      { sku: 'DONE', status: 'posted', firstCounted: 12, firstBy: 'carl' },
      { sku: 'RECOUNTED', status: 'posting', firstCounted: 38, firstBy: 'carl', recountCounted: 40, recountBy: 'rita' },
    ];
    const refusal = (fn: () => unknown, code: string, pattern: RegExp) =>
      assert.throws(fn, (e: unknown) => e instanceof Refusal && e.code === code && pattern.test(e.message));

    it('grades a first count against tolerance: within 5% of the expected figure', () => {
      assert.equal(withinTolerance(100, 95), true);
      assert.equal(withinTolerance(100, 105), true);
      assert.equal(withinTolerance(100, 94), false);
      assert.equal(withinTolerance(50, 38), false);
      assert.equal(withinTolerance(0, 0), true);
      assert.equal(withinTolerance(0, 1), false);
    });

    it('takes a first count, a recount by someone else, and resends as nothing new', () => {
      assert.deepEqual(planSubmission(1, lines, [{ sku: 'NEW', counted: 4 }, { sku: 'OFF', counted: 40 }], 'rita'), [
        { sku: 'NEW', action: 'first', counted: 4 },
        { sku: 'OFF', action: 'recount', counted: 40 },
      ]);
      assert.deepEqual(planSubmission(1, lines, [{ sku: 'OFF', counted: 38 }, { sku: 'DONE', counted: 12 }], 'carl'), [
        { sku: 'OFF', action: 'resend' },
        { sku: 'DONE', action: 'resend' },
      ]);
      assert.deepEqual(planSubmission(1, lines, [{ sku: 'RECOUNTED', counted: 40 }], 'rita'), [{ sku: 'RECOUNTED', action: 'resend' }]);
    });

    it('refuses a recount by the first counter, a new figure for a counted line, unknown and repeated SKUs', () => {
      refusal(() => planSubmission(1, lines, [{ sku: 'OFF', counted: 39 }], 'carl'), 'recount_by_other', /lines\.0: OFF needs a recount by someone other than carl/);
      refusal(() => planSubmission(1, lines, [{ sku: 'DONE', counted: 13 }], 'carl'), 'already_counted', /lines\.0: DONE .* already counted/);
      refusal(() => planSubmission(1, lines, [{ sku: 'NEW', counted: 1 }, { sku: 'GHOST', counted: 1 }], 'carl'), 'invalid_lines', /lines\.1\.sku: count task 1 has no line for GHOST/);
      refusal(() => planSubmission(1, lines, [{ sku: 'NEW', counted: 1 }, { sku: 'NEW', counted: 2 }], 'carl'), 'invalid_lines', /lines\.1\.sku: NEW is submitted twice/);
    });
  });

  describe('configuration', () => {
    const problem = (env: Record<string, string>) => {
      const parsed = EnvConfig.safeParse(env);
      return parsed.success ? 'ok' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };

    it('defaults to 20/30 shares over 90 days, counting A weekly, B monthly, C quarterly', () => {
      assert.deepEqual(countingRulesOf(EnvConfig.parse({})), { shares: { a: 20, b: 30 }, windowDays: 90, frequencies: { A: 7, B: 30, C: 90 } });
      const set = countingRulesOf(EnvConfig.parse({ STOCKFLOW_ABC_SHARES: '10, 40', STOCKFLOW_ABC_WINDOW_DAYS: '28', STOCKFLOW_COUNT_FREQUENCY_DAYS: '5,20,60' }));
      assert.deepEqual(set, { shares: { a: 10, b: 40 }, windowDays: 28, frequencies: { A: 5, B: 20, C: 60 } });
    });

    it('names what is wrong with a setting', () => {
      assert.equal(problem({ STOCKFLOW_ABC_SHARES: '80,30' }), 'STOCKFLOW_ABC_SHARES: A and B together must be at most 100%');
      assert.equal(problem({ STOCKFLOW_ABC_SHARES: '20' }), 'STOCKFLOW_ABC_SHARES: must be two percentages, A then B, e.g. 20,30');
      assert.equal(problem({ STOCKFLOW_COUNT_FREQUENCY_DAYS: '7,0,90' }), 'STOCKFLOW_COUNT_FREQUENCY_DAYS.1: must be at least 1 day');
    });
  });
});
