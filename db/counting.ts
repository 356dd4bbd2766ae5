import { classifyByRevenue, type AbcClass } from '../domain/abc';
import { dueOn, isWorkingDay, type CountCandidate } from '../domain/count-schedule';
import { planSubmission, withinTolerance, type LineState, type LineStatus } from '../domain/count-results';
import { COUNT_TASK } from '../domain/count-task-exception';
import { exceptionSubjects, idempotencyKeys, workflowIds } from '../domain/keys';
import { Refusal } from '../domain/refusal';
import type { AbcEntry, AbcRun, AccuracyQuery, CountAccuracy, CountingRules, CountSubmission, CountTaskQuery, CountTaskView } from '../schemas/counting';
import { clientOf, isoAt, type Sql } from './client';
import type { Db } from './connection';

/**
 * Every active SKU's revenue over the `windowDays` up to `at` — units that left through `issue` and
 * `ship` movements, each at the price in force when it left (variant_prices history) — classed A/B/C
 * and stored with when it was computed, in one transaction.
 */
export async function computeAbcClasses(db: Db, at: Date, rules: Pick<CountingRules, 'shares' | 'windowDays'>): Promise<AbcRun> {
  const atText = at.toISOString();
  return clientOf(db).begin(async (tx) => {
    const revenues = await tx<{ variant_id: number; sku: string; revenue: number }[]>`
      SELECT v.id AS variant_id, v.sku, coalesce(sum(-m.delta_on_hand * p.price), 0)::float8 AS revenue
      FROM variants v
      LEFT JOIN stock_movements m ON m.variant_id = v.id AND m.kind IN ('issue', 'ship')
        AND m.created_at > ${atText}::timestamptz - make_interval(days => ${rules.windowDays}::int) AND m.created_at <= ${atText}::timestamptz
      LEFT JOIN LATERAL (
        SELECT vp.price FROM variant_prices vp
        WHERE vp.variant_id = v.id AND vp.price IS NOT NULL AND vp.valid_from <= m.created_at
        ORDER BY vp.valid_from DESC, vp.id DESC LIMIT 1
      ) p ON true
      WHERE v.archived_at IS NULL
      GROUP BY v.id, v.sku`;
    const idOf = new Map(revenues.map((r) => [r.sku, r.variant_id]));
    const classified = classifyByRevenue(
      revenues.map((r) => ({ sku: r.sku, revenue: Math.round(r.revenue * 10_000) / 10_000 })),
      rules.shares,
    );
    const classes = { A: 0, B: 0, C: 0 };
    if (classified.length > 0) {
      const rows = classified.map((c) => {
        classes[c.abcClass] += 1;
        return { variant_id: idOf.get(c.sku) as number, abc_class: c.abcClass, revenue: c.revenue, rank: c.rank, window_days: rules.windowDays, computed_at: atText };
      });
      await tx`
        INSERT INTO abc_classes ${tx(rows)}
        ON CONFLICT (variant_id) DO UPDATE SET abc_class = excluded.abc_class, revenue = excluded.revenue, rank = excluded.rank,
          window_days = excluded.window_days, computed_at = excluded.computed_at`;
    }
    return { computedAt: atText, windowDays: rules.windowDays, classes };
  });
}

export async function listAbcClasses(db: Db, query: { abcClass?: AbcClass }): Promise<AbcEntry[]> {
  const pg = clientOf(db);
  return pg<AbcEntry[]>`
    SELECT v.sku, a.abc_class AS "abcClass", a.revenue::float8 AS revenue, a.rank, a.window_days AS "windowDays", ${isoAt(pg, 'a.computed_at')} AS "computedAt"
    FROM abc_classes a JOIN variants v ON v.id = a.variant_id AND v.archived_at IS NULL
    WHERE (${query.abcClass ?? null}::text IS NULL OR a.abc_class = ${query.abcClass ?? null})
    ORDER BY a.rank, v.sku`;
}

/** A count task the day's planning made (or found made), for raising its exception. */
export interface PlannedTask {
  taskKey: string;
  location: string;
  day: string;
  lines: number;
}

/**
 * The day's count tasks: for every location, the SKU-locations due on `day` (domain/count-schedule.ts,
 * by each SKU's ABC class, C when it has none yet) become one task keyed by location and day. A
 * location that already has its task for the day is left as it is, so a rerun creates nothing
 * twice. Answers with every open task of the day.
 */
export async function planCountTasks(db: Db, day: string, rules: Pick<CountingRules, 'frequencies'>): Promise<PlannedTask[]> {
  if (!isWorkingDay(day)) return [];
  return clientOf(db).begin(async (tx) => {
    const candidates = await tx<(CountCandidate & { variant_id: number; location_id: number; planned: boolean })[]>`
      SELECT b.variant_id, b.location_id, v.sku, l.code AS location, coalesce(a.abc_class, 'C') AS "abcClass",
             c.last_day AS "lastCountedOn",
             EXISTS (SELECT 1 FROM count_task_lines tl JOIN count_tasks t ON t.id = tl.task_id
                     WHERE tl.variant_id = b.variant_id AND t.location_id = b.location_id AND tl.status <> 'posted') AS "onOpenTask",
             EXISTS (SELECT 1 FROM count_tasks t WHERE t.location_id = b.location_id AND t.day = ${day}) AS planned
      FROM stock_balances b
      JOIN variants v ON v.id = b.variant_id AND v.archived_at IS NULL
      JOIN locations l ON l.id = b.location_id
      LEFT JOIN abc_classes a ON a.variant_id = b.variant_id
      LEFT JOIN LATERAL (
        SELECT to_char(max(cc.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS last_day
        FROM cycle_counts cc WHERE cc.variant_id = b.variant_id AND cc.location_id = b.location_id
      ) c ON true`;
    const open = candidates.filter((c) => !c.planned).map((c) => ({ ...c, lastCountedOn: c.lastCountedOn ?? undefined }));
    const place = new Map(open.map((c) => [`${c.sku}@${c.location}`, c]));
    const byLocation = new Map<string, { locationId: number; lines: { variant_id: number; abc_class: AbcClass; reason: string }[] }>();
    for (const due of dueOn(day, open, rules.frequencies)) {
      const c = place.get(`${due.sku}@${due.location}`) as (typeof open)[number];
      const entry = byLocation.get(due.location) ?? { locationId: c.location_id, lines: [] };
      entry.lines.push({ variant_id: c.variant_id, abc_class: due.abcClass, reason: due.reason });
      byLocation.set(due.location, entry);
    }
    for (const [location, { locationId, lines }] of byLocation) {
      const [task] = await tx<{ id: number }[]>`
        INSERT INTO count_tasks (task_key, location_id, day, exception_workflow_id)
        VALUES (${idempotencyKeys.countTask(location, day)}, ${locationId}, ${day}, ${workflowIds.exception(COUNT_TASK, exceptionSubjects.countTask(location, day))})
        ON CONFLICT (task_key) DO NOTHING RETURNING id`;
      if (task) await tx`INSERT INTO count_task_lines ${tx(lines.map((l) => ({ task_id: task.id, ...l })))}`;
    }
    const tasks = await tx<PlannedTask[]>`
      SELECT t.task_key AS "taskKey", l.code AS location, t.day, (SELECT count(*) FROM count_task_lines tl WHERE tl.task_id = t.id)::int AS lines
      FROM count_tasks t JOIN locations l ON l.id = t.location_id
      WHERE t.day = ${day} AND t.status = 'open' ORDER BY l.code`;
    return [...tasks];
  });
}

/** A task's lines as the counting rules read them, by SKU. */
async function readLines(pg: Sql, taskId: number): Promise<(LineState & { variantId: number })[]> {
  const rows = await pg<{ variantId: number; sku: string; status: LineStatus; firstCounted: number | null; firstBy: string | null; recountCounted: number | null; recountBy: string | null }[]>`
    SELECT tl.variant_id AS "variantId", v.sku, tl.status, tl.first_counted AS "firstCounted", tl.first_by AS "firstBy",
           tl.recount_counted AS "recountCounted", tl.recount_by AS "recountBy"
    FROM count_task_lines tl JOIN variants v ON v.id = tl.variant_id
    WHERE tl.task_id = ${taskId} ORDER BY v.sku`;
  return rows.map((r) => ({
    variantId: r.variantId,
    sku: r.sku,
    status: r.status,
    ...(r.firstCounted === null ? {} : { firstCounted: r.firstCounted, firstBy: r.firstBy as string }),
    ...(r.recountCounted === null ? {} : { recountCounted: r.recountCounted, recountBy: r.recountBy as string }),
  }));
}

interface TaskRow {
  id: number;
  taskKey: string;
  location: string;
  locationId: number;
  day: string;
  status: 'open' | 'done';
  exceptionWorkflowId: string;
}

async function readTasks(pg: Sql, filter: CountTaskQuery & { id?: number }, lock = false): Promise<TaskRow[]> {
  return pg<TaskRow[]>`
    SELECT t.id::int AS id, t.task_key AS "taskKey", l.code AS location, t.location_id AS "locationId", t.day, t.status,
           t.exception_workflow_id AS "exceptionWorkflowId"
    FROM count_tasks t JOIN locations l ON l.id = t.location_id
    WHERE (${filter.id ?? null}::bigint IS NULL OR t.id = ${filter.id ?? null})
      AND (${filter.day ?? null}::text IS NULL OR t.day = ${filter.day ?? null})
      AND (${filter.location ?? null}::text IS NULL OR l.code = ${filter.location ?? null})
      AND (${filter.status ?? null}::text IS NULL OR t.status = ${filter.status ?? null})
    ORDER BY t.day DESC, l.code
    ${lock ? pg`FOR UPDATE OF t` : pg``}`;
}

/**
 * Count tasks as a counter sees them: what to count and where, and who has counted — never the
 * expected figure, nor anyone's counted figure (a recount is blind too).
 */
export async function listCountTasks(db: Db, filter: CountTaskQuery & { id?: number }): Promise<CountTaskView[]> {
  const pg = clientOf(db);
  const tasks = await readTasks(pg, filter);
  if (tasks.length === 0) return [];
  const lines = await pg<{ taskId: number; sku: string; abcClass: AbcClass; status: LineStatus; countedBy: string | null; recountedBy: string | null }[]>`
    SELECT tl.task_id::int AS "taskId", v.sku, tl.abc_class AS "abcClass", tl.status, tl.first_by AS "countedBy", tl.recount_by AS "recountedBy"
    FROM count_task_lines tl JOIN variants v ON v.id = tl.variant_id
    WHERE tl.task_id = ANY(${tasks.map((t) => t.id)}::bigint[]) ORDER BY v.sku`;
  return tasks.map(({ locationId: _, ...t }) => ({ ...t, lines: lines.filter((l) => l.taskId === t.id).map(({ taskId: __, ...l }) => l) }));
}

export async function findCountTask(db: Db, id: number): Promise<CountTaskView> {
  const [task] = await listCountTasks(db, { id });
  if (!task) throw new Refusal('not_found', `no count task ${id}`, 'id');
  return task;
}

/** The task and its lines as the submission rules read them, before anything is recorded. */
export async function countTaskLines(db: Db, id: number): Promise<{ task: CountTaskView; lines: LineState[] }> {
  const task = await findCountTask(db, id);
  return { task, lines: await readLines(clientOf(db), id) };
}

/** A line whose figure is settled: it posts (or has posted) as a cycle count under its own key. */
export interface LineToPost {
  sku: string;
  counted: number;
  by: string;
  idempotencyKey: string;
}

export interface RecordedCounts {
  toPost: LineToPost[];
  recountRequired: string[];
}

/**
 * Records a counter's lines in one transaction, under the task's lock: a first count is graded
 * against the on-hand the ledger holds now (within 5%: it will post; over: a recount by someone
 * else is asked for), a recount settles the line. Answers with the submitted lines that are to
 * post (including ones settled before, for a resend to finish) and those awaiting a recount.
 */
export async function recordCounts(db: Db, id: number, submission: CountSubmission): Promise<RecordedCounts> {
  return clientOf(db).begin(async (tx) => {
    const [task] = await readTasks(tx, { id }, true);
    if (!task) throw new Refusal('not_found', `no count task ${id}`, 'id');
    const lines = await readLines(tx, id);
    const steps = planSubmission(id, lines, submission.lines, submission.by);
    const variantOf = new Map(lines.map((l) => [l.sku, l.variantId]));
    for (const step of steps) {
      const variantId = variantOf.get(step.sku) as number;
      if (step.action === 'first') {
        const [balance] = await tx<{ onHand: number }[]>`
          SELECT on_hand AS "onHand" FROM stock_balances WHERE variant_id = ${variantId} AND location_id = ${task.locationId}`;
        const within = withinTolerance(balance?.onHand ?? 0, step.counted);
        await tx`
          UPDATE count_task_lines SET first_counted = ${step.counted}, first_by = ${submission.by}, first_at = now(),
            within_tolerance = ${within}, status = ${within ? 'posting' : 'recount'}
          WHERE task_id = ${id} AND variant_id = ${variantId}`;
      } else if (step.action === 'recount') {
        await tx`
          UPDATE count_task_lines SET recount_counted = ${step.counted}, recount_by = ${submission.by}, recount_at = now(), status = 'posting'
          WHERE task_id = ${id} AND variant_id = ${variantId}`;
      }
    }
    const after = new Map((await readLines(tx, id)).map((l) => [l.sku, l]));
    const recorded: RecordedCounts = { toPost: [], recountRequired: [] };
    for (const { sku } of submission.lines) {
      const line = after.get(sku) as LineState;
      if (line.status === 'recount') recorded.recountRequired.push(sku);
      else {
        const [counted, by] = line.recountBy ? [line.recountCounted, line.recountBy] : [line.firstCounted, line.firstBy];
        recorded.toPost.push({ sku, counted: counted as number, by: by as string, idempotencyKey: idempotencyKeys.countLine(task.taskKey, sku) });
      }
    }
    return recorded;
  });
}

/** Marks lines posted with their cycle count's grade; the task is done once every line has posted. */
export async function markPosted(db: Db, id: number, posted: { sku: string; outcome: string }[]): Promise<{ done: boolean }> {
  return clientOf(db).begin(async (tx) => {
    if (posted.length > 0) {
      await tx`
        UPDATE count_task_lines tl SET status = 'posted', posted_outcome = p.outcome, posted_at = coalesce(tl.posted_at, now())
        FROM unnest(${posted.map((p) => p.sku)}::text[], ${posted.map((p) => p.outcome)}::text[]) AS p(sku, outcome), variants v
        WHERE tl.task_id = ${id} AND v.id = tl.variant_id AND v.sku = p.sku`;
    }
    const [task] = await tx<{ done: boolean }[]>`
      UPDATE count_tasks SET status = 'done', completed_at = coalesce(completed_at, now())
      WHERE id = ${id} AND NOT EXISTS (SELECT 1 FROM count_task_lines WHERE task_id = ${id} AND status <> 'posted')
      RETURNING true AS done`;
    return { done: task?.done ?? false };
  });
}

/**
 * Stock accuracy from first counts (a recount does not improve it): per location and class, the
 * share of counted SKU-locations whose first count was within tolerance.
 */
export async function countAccuracy(db: Db, query: AccuracyQuery): Promise<CountAccuracy> {
  const pg = clientOf(db);
  const rows = await pg<{ location: string; abcClass: AbcClass; counted: number; withinTolerance: number }[]>`
    SELECT l.code AS location, tl.abc_class AS "abcClass", count(*)::int AS counted, count(*) FILTER (WHERE tl.within_tolerance)::int AS "withinTolerance"
    FROM count_task_lines tl JOIN count_tasks t ON t.id = tl.task_id JOIN locations l ON l.id = t.location_id
    WHERE tl.first_counted IS NOT NULL
      AND (${query.since ?? null}::text IS NULL OR tl.first_at >= ${query.since ?? null}::date)
      AND (${query.location ?? null}::text IS NULL OR l.code = ${query.location ?? null})
    GROUP BY l.code, tl.abc_class ORDER BY l.code, tl.abc_class`;
  const share = (within: number, counted: number) => (counted === 0 ? null : Math.round((within / counted) * 10_000) / 10_000);
  const byClass = (['A', 'B', 'C'] as const).map((abcClass) => {
    const of = rows.filter((r) => r.abcClass === abcClass);
    const counted = of.reduce((n, r) => n + r.counted, 0);
    const withinTolerance = of.reduce((n, r) => n + r.withinTolerance, 0);
    return { abcClass, counted, withinTolerance, accuracy: share(withinTolerance, counted) };
  });
  return { byLocationAndClass: rows.map((r) => ({ ...r, accuracy: share(r.withinTolerance, r.counted) })), byClass };
}
