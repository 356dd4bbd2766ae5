import { Refusal } from '../domain/refusal';
import { assess, dailyDeviation, groupBySupplier, type ReorderPolicy } from '../domain/replenishment';
import { idempotencyKeys, purchaseOrderNumbers } from '../domain/keys';
import type { PurchaseSuggestion, ReorderPolicies, ReorderPolicyQuery, StoredReorderPolicy } from '../schemas/replenishment';
import { clientOf, type Sql } from './client';
import type { Db } from './connection';
import { StockRefusal } from './errors';
import { orderFromSuggestion } from './purchase-orders';

/** Creates or replaces the policies of the listed SKU-locations in one transaction; an unknown name refuses them all. */
export async function savePolicies(db: Db, request: ReorderPolicies): Promise<{ saved: number }> {
  const rows = request.policies;
  return clientOf(db).begin(async (tx) => {
    const resolved = await tx<{ i: number; variant_id: number | null; location_id: number | null; supplier_id: string | null }[]>`
      SELECT r.i, v.id AS variant_id, l.id AS location_id, s.id AS supplier_id
      FROM unnest(${rows.map((r) => r.sku)}::text[], ${rows.map((r) => r.location)}::text[], ${rows.map((r) => r.supplierId)}::text[])
        WITH ORDINALITY AS r(sku, location, supplier, i)
      LEFT JOIN variants v ON v.sku = r.sku
      LEFT JOIN locations l ON l.code = r.location
      LEFT JOIN suppliers s ON s.id = r.supplier AND s.archived_at IS NULL
      ORDER BY r.i`;
    for (const r of resolved) {
      const entry = rows[r.i - 1];
      const at = `policies.${r.i - 1}`;
      if (r.variant_id === null) throw new StockRefusal('unknown_sku', `${at}.sku: unknown SKU "${entry.sku}"`, `${at}.sku`);
      if (r.location_id === null) throw new StockRefusal('unknown_location', `${at}.location: unknown location "${entry.location}"`, `${at}.location`);
      if (r.supplier_id === null) throw new StockRefusal('unknown_supplier', `${at}.supplierId: unknown or archived supplier "${entry.supplierId}"`, `${at}.supplierId`);
    }
    const values = resolved.map((r) => {
      const e = rows[r.i - 1];
      return {
        variant_id: r.variant_id,
        location_id: r.location_id,
        supplier_id: r.supplier_id,
        kind: e.kind,
        reorder_point: e.kind === 'static' ? e.reorderPoint : null,
        order_quantity: e.kind === 'static' ? e.orderQuantity : null,
        safety_days: e.kind === 'dynamic' ? e.safetyDays : null,
        target_days: e.kind === 'dynamic' ? e.targetDays : null,
        window_days: e.kind === 'dynamic' ? (e.windowDays ?? null) : null,
        service_level: e.kind === 'dynamic' ? (e.serviceLevel ?? null) : null,
        updated_by: request.by,
      };
    });
    await tx`
      INSERT INTO reorder_policies ${tx(values)}
      ON CONFLICT (variant_id, location_id) DO UPDATE SET
        supplier_id = excluded.supplier_id, kind = excluded.kind, reorder_point = excluded.reorder_point,
        order_quantity = excluded.order_quantity, safety_days = excluded.safety_days, target_days = excluded.target_days,
        window_days = excluded.window_days, service_level = excluded.service_level, updated_by = excluded.updated_by, updated_at = now()`;
    return { saved: values.length };
  });
}

/** A policy as stored, by the names a person gives its SKU and location. */
interface PolicyColumns {
  sku: string;
  location: string;
  supplier_id: string;
  kind: 'static' | 'dynamic';
  reorder_point: number | null;
  order_quantity: number | null;
  safety_days: number | null;
  target_days: number | null;
  service_level: number | null;
}

export async function listPolicies(db: Db, query: ReorderPolicyQuery): Promise<StoredReorderPolicy[]> {
  const sql = clientOf(db);
  const rows = await sql<(PolicyColumns & { window_days: number | null; updated_by: string; updated_at: string })[]>`
    SELECT v.sku, l.code AS location, p.supplier_id, p.kind, p.reorder_point, p.order_quantity, p.safety_days, p.target_days,
           p.service_level::float8 AS service_level, p.window_days, p.updated_by, p.updated_at
    FROM reorder_policies p JOIN variants v ON v.id = p.variant_id JOIN locations l ON l.id = p.location_id
    WHERE (${query.location ?? null}::text IS NULL OR l.code = ${query.location ?? null})
      AND (${query.supplierId ?? null}::text IS NULL OR p.supplier_id = ${query.supplierId ?? null})
    ORDER BY v.sku, l.code`;
  return rows.map((r) => {
    const common = { sku: r.sku, location: r.location, supplierId: r.supplier_id, updatedBy: r.updated_by, updatedAt: new Date(r.updated_at).toISOString() };
    return r.kind === 'static'
      ? { kind: 'static' as const, ...common, reorderPoint: r.reorder_point as number, orderQuantity: r.order_quantity as number }
      : {
          kind: 'dynamic' as const,
          ...common,
          safetyDays: r.safety_days as number,
          targetDays: r.target_days as number,
          ...(r.window_days === null ? {} : { windowDays: r.window_days }),
          ...(r.service_level === null ? {} : { serviceLevel: r.service_level }),
        };
  });
}

/** One policy with everything its assessment needs, as the single pass over the ledger reads it. */
interface PolicyRow extends Omit<PolicyColumns, 'sku' | 'location'> {
  variant_id: number;
  location_id: number;
  window_days: number;
  issued: number;
  /** Σ of squared daily demand over the window, read only for a policy with a service level. */
  issued_squares: number | null;
  available: number;
  incoming: number;
  lead_time_days: number;
  pack_size: number;
  moq: number;
}

/**
 * Every policy of an active SKU and supplier with its demand over its window up to `at`, its stock
 * position and its supplier's terms, in one statement. Demand is the on-hand that left through
 * `issue` and `ship` movements (the KPIs count the same); a supplier that states no terms is
 * read as lead time 0, pack 1, no MOQ.
 */
async function readPositions(sql: Sql, at: Date, defaultWindowDays: number): Promise<PolicyRow[]> {
  const until = sql`${at.toISOString()}::timestamptz`;
  // The policy's demand: what left its SKU-location through issues and shipments within its window up to `at`.
  const demand = sql`
    FROM stock_movements m
    WHERE m.variant_id = p.variant_id AND m.location_id = p.location_id AND m.kind IN ('issue', 'ship')
      AND m.created_at > ${until} - make_interval(days => w.days) AND m.created_at <= ${until}`;
  return sql<PolicyRow[]>`
    SELECT p.variant_id, p.location_id, p.supplier_id, p.kind,
           p.reorder_point, p.order_quantity, p.safety_days, p.target_days, p.service_level::float8 AS service_level, w.days AS window_days,
           coalesce(d.issued, 0)::int AS issued,
           -- Read only for a policy with a service level (CASE does not evaluate the rest): each of
           -- the window's days counted back from the run's instant; a day without demand adds 0.
           CASE WHEN p.service_level IS NULL THEN NULL ELSE (
             SELECT coalesce(sum(day.units * day.units), 0)::float8
             FROM (
               SELECT -sum(m.delta_on_hand) AS units ${demand}
               GROUP BY floor(extract(epoch FROM ${until} - m.created_at) / 86400)
             ) day
           ) END AS issued_squares,
           coalesce(b.available, 0) AS available, coalesce(b.incoming, 0) AS incoming,
           coalesce(s.lead_time_days, 0) AS lead_time_days, coalesce(s.pack_size, 1) AS pack_size, coalesce(s.moq, 0) AS moq
    FROM reorder_policies p
    JOIN variants v ON v.id = p.variant_id AND v.archived_at IS NULL
    JOIN suppliers s ON s.id = p.supplier_id AND s.archived_at IS NULL
    CROSS JOIN LATERAL (SELECT coalesce(p.window_days, ${defaultWindowDays}::int) AS days) w
    LEFT JOIN stock_balances b ON b.variant_id = p.variant_id AND b.location_id = p.location_id
    LEFT JOIN LATERAL (
      SELECT -sum(m.delta_on_hand) AS issued ${demand}
    ) d ON true`;
}

/** A low line's supplier cost and currency. */
interface Priced {
  variant_id: number;
  location_id: number;
  currency: string | null;
  unit_cost: number | null;
}

/**
 * The low lines priced at their supplier's cost, by supplier, SKU and location: read for the few
 * lines a run orders, not for every policy it assesses.
 */
async function priceLines<L extends { row: PolicyRow }>(sql: Sql, low: readonly L[]): Promise<(L & { priced: Priced })[]> {
  const found = await sql<Priced[]>`
    SELECT c.variant_id, c.location_id, coalesce(sv.currency, s.currency) AS currency, sv.cost::float8 AS unit_cost
    FROM unnest(${low.map((l) => l.row.variant_id)}::int[], ${low.map((l) => l.row.location_id)}::int[], ${low.map((l) => l.row.supplier_id)}::text[])
      AS c(variant_id, location_id, supplier_id)
    JOIN variants v ON v.id = c.variant_id
    JOIN locations l ON l.id = c.location_id
    JOIN suppliers s ON s.id = c.supplier_id
    LEFT JOIN supplier_variants sv ON sv.supplier_id = c.supplier_id AND sv.variant_id = c.variant_id
    ORDER BY c.supplier_id, v.sku, l.code`;
  const byPlace = new Map(low.map((l) => [`${l.row.variant_id}/${l.row.location_id}`, l]));
  return found.map((priced) => ({ ...(byPlace.get(`${priced.variant_id}/${priced.location_id}`) as L), priced }));
}

function policyOf(row: PolicyRow): ReorderPolicy {
  return row.kind === 'static'
    ? { kind: 'static', reorderPoint: row.reorder_point as number, orderQuantity: row.order_quantity as number }
    : { kind: 'dynamic', safetyDays: row.safety_days as number, targetDays: row.target_days as number, ...(row.service_level === null ? {} : { serviceLevel: row.service_level }) };
}

export interface RunOutcome {
  runKey: string;
  /** False when the day's run had already happened: its suggestions are returned as stored. */
  created: boolean;
  suggestions: PurchaseSuggestion[];
}

/** The UTC day of an instant, the unit a run is idempotent over. */
export function runDayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The day's replenishment run: assesses every policy, groups the low ones into one suggestion per
 * supplier and stores them, all in one transaction claimed by the day's run key.
 */
export async function runReplenishment(db: Db, at: Date, defaultWindowDays: number): Promise<RunOutcome> {
  const runKey = idempotencyKeys.replenishmentRun(runDayOf(at));
  const created = await clientOf(db).begin(async (tx) => {
    const [claimed] = await tx`INSERT INTO replenishment_runs (run_key, at) VALUES (${runKey}, ${at.toISOString()}::timestamptz) ON CONFLICT DO NOTHING RETURNING run_key`;
    if (!claimed) return false;
    const assessed = (await readPositions(tx, at, defaultWindowDays)).flatMap((row) => {
      const line = assess(
        policyOf(row),
        {
          issued: row.issued,
          windowDays: row.window_days,
          available: row.available,
          incoming: row.incoming,
          ...(row.issued_squares === null ? {} : { dailyDeviation: dailyDeviation(row.issued, row.issued_squares, row.window_days) }),
        },
        { leadTimeDays: row.lead_time_days, packSize: row.pack_size, moq: row.moq },
      );
      return line ? [{ ...line, row }] : [];
    });
    const low = (await priceLines(tx, assessed)).map((l) => ({ ...l, supplierId: l.row.supplier_id, unitCost: l.priced.unit_cost ?? 0 }));
    for (const group of groupBySupplier(low)) {
      const [suggestion] = await tx<{ id: number }[]>`
        INSERT INTO purchase_suggestions (run_key, supplier_id, currency, value)
        VALUES (${runKey}, ${group.supplierId}, ${group.lines[0].priced.currency}, ${group.value})
        RETURNING id`;
      const lines = group.lines.map((l, i) => ({
        suggestion_id: suggestion.id,
        line_no: i + 1,
        variant_id: l.row.variant_id,
        location_id: l.row.location_id,
        suggested_quantity: l.quantity,
        quantity: l.quantity,
        unit_cost: l.priced.unit_cost,
        velocity: Math.round(l.velocity * 10_000) / 10_000,
        reorder_point: Math.round(l.reorderPoint * 10_000) / 10_000,
        reason: l.reason,
      }));
      // One JSON document parsed once by Postgres, not ten parameters a line (see recordBatch in db/ledger.ts).
      await tx`
        INSERT INTO purchase_suggestion_lines (suggestion_id, line_no, variant_id, location_id, suggested_quantity, quantity, unit_cost, velocity, reorder_point, reason)
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(lines)}::jsonb) AS l(
          suggestion_id bigint, line_no int, variant_id int, location_id int, suggested_quantity int, quantity int, unit_cost numeric, velocity numeric, reorder_point numeric, reason text)`;
    }
    return true;
  });
  return { runKey, created, suggestions: await listSuggestions(db, { runKey }) };
}

interface SuggestionRow {
  id: number;
  run_key: string;
  supplier_id: string;
  currency: string | null;
  value: string;
  status: 'open' | 'approved' | 'rejected';
  decided_by: string | null;
  po_number: string | null;
  lines: { lineNo: number; sku: string; location: string; suggestedQuantity: number; quantity: number; unitCost: string | null; velocity: string; reorderPoint: string; reason: string }[];
}

export async function listSuggestions(db: Db, filter: { runKey?: string; id?: number; status?: string }): Promise<PurchaseSuggestion[]> {
  const sql = clientOf(db);
  const rows = await sql<SuggestionRow[]>`
    SELECT s.id, s.run_key, s.supplier_id, s.currency, s.value::text, s.status, s.decided_by,
           (SELECT po.po_number FROM purchase_orders po WHERE po.suggestion_id = s.id) AS po_number,
           (SELECT json_agg(json_build_object(
                     'lineNo', sl.line_no, 'sku', v.sku, 'location', l.code, 'suggestedQuantity', sl.suggested_quantity,
                     'quantity', sl.quantity, 'unitCost', sl.unit_cost::text, 'velocity', sl.velocity::text,
                     'reorderPoint', sl.reorder_point::text, 'reason', sl.reason) ORDER BY sl.line_no)
            FROM purchase_suggestion_lines sl JOIN variants v ON v.id = sl.variant_id JOIN locations l ON l.id = sl.location_id
            WHERE sl.suggestion_id = s.id) AS lines
    FROM purchase_suggestions s
    WHERE (${filter.runKey ?? null}::text IS NULL OR s.run_key = ${filter.runKey ?? null})
      AND (${filter.id ?? null}::bigint IS NULL OR s.id = ${filter.id ?? null})
      AND (${filter.status ?? null}::text IS NULL OR s.status = ${filter.status ?? null})
    ORDER BY s.id`;
  return rows.map((r) => ({
    id: Number(r.id),
    runKey: r.run_key,
    supplierId: r.supplier_id,
    currency: r.currency,
    value: Number(r.value),
    status: r.status,
    decidedBy: r.decided_by,
    purchaseOrder: r.po_number,
    lines: r.lines.map((l) => ({ ...l, unitCost: l.unitCost === null ? null : Number(l.unitCost), velocity: Number(l.velocity), reorderPoint: Number(l.reorderPoint) })),
  }));
}

export type SuggestionDecision =
  | { decision: 'approve'; by: string; at: Date; quantities?: { lineNo: number; quantity: number }[] }
  | { decision: 'reject'; by: string };

/**
 * Approves (with the buyer's quantities for lines it has, the value recomputed at the lines' costs)
 * or rejects an open suggestion; an approval writes its purchase order in the same transaction, so
 * there is never an approved suggestion without its order. Deciding one already decided is
 * refused, naming who decided it, unless it is the same decision by the same person: that answers
 * with it as it is.
 */
export async function decideSuggestion(db: Db, id: number, decision: SuggestionDecision): Promise<PurchaseSuggestion> {
  await clientOf(db).begin(async (tx) => {
    const [current] = await tx<{ status: string; decided_by: string | null }[]>`SELECT status, decided_by FROM purchase_suggestions WHERE id = ${id} FOR UPDATE`;
    if (!current) throw new Refusal('not_found', `no purchase suggestion ${id}`, 'id');
    // The same person deciding the same way again (a concurrent request of theirs committed first) changes nothing.
    if (current.status === (decision.decision === 'approve' ? 'approved' : 'rejected') && current.decided_by === decision.by) return;
    if (current.status !== 'open') throw new Refusal('already_resolved', `purchase suggestion ${id} was already ${current.status} by ${current.decided_by}`, 'id');
    if (decision.decision === 'approve' && decision.quantities?.length) {
      const edits = decision.quantities;
      await tx`
        UPDATE purchase_suggestion_lines sl SET quantity = e.quantity
        FROM unnest(${edits.map((e) => e.lineNo)}::int[], ${edits.map((e) => e.quantity)}::int[]) AS e(line_no, quantity)
        WHERE sl.suggestion_id = ${id} AND sl.line_no = e.line_no`;
    }
    const [decided] = await tx<{ run_key: string; supplier_id: string }[]>`
      UPDATE purchase_suggestions SET status = ${decision.decision === 'approve' ? 'approved' : 'rejected'}, decided_by = ${decision.by}, decided_at = now(),
        value = (SELECT coalesce(sum(quantity * coalesce(unit_cost, 0)), 0) FROM purchase_suggestion_lines WHERE suggestion_id = ${id})
      WHERE id = ${id}
      RETURNING run_key, supplier_id`;
    if (decision.decision === 'approve') await orderFromSuggestion(tx, id, purchaseOrderNumbers.fromSuggestion(decided.run_key, decided.supplier_id), decision.by, decision.at);
  });
  const [decided] = await listSuggestions(db, { id });
  return decided;
}
