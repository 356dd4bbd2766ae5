import { idempotencyKeys } from '../domain/keys';
import { and, eq, sql } from 'drizzle-orm';
import { heldRuleOf, planLines, type LastApplied, type PlannedLine, type SkuMapping } from '../domain/feed-rules';
import { Refusal } from '../domain/refusal';
import { emptyCounts, type FeedCounts, type FeedRules, type LineOutcome } from '../schemas/feeds';
import { sha256 } from './canonical';
import { clientOf, type Sql } from './client';
import type { Db } from './connection';
import { applyStockOperations, type BatchOperation } from './ledger-batch';
import { feedLines, locations, supplierFeeds, suppliers } from './schema';
import { requireActiveSupplier } from './suppliers';

export interface StoredFeed {
  feedPk: number;
  feedId: string;
  workflowId: string;
  created: boolean;
}

/**
 * Stores a received feed whole, before any workflow starts. The same feed sent again (same feed
 * id, or same content when it has none) finds the stored one and creates nothing.
 */
export async function storeFeed(
  db: Db,
  input: { supplierId: string; format: 'csv' | 'json'; body: string; feedId?: string; lineCount: number; workflowIdFor: (feedId: string) => string },
): Promise<StoredFeed> {
  await requireActiveSupplier(db, input.supplierId);
  const contentHash = sha256(input.body);
  const feedId = input.feedId ?? `sha256-${contentHash.slice(0, 24)}`;
  const workflowId = input.workflowIdFor(feedId);
  const [created] = await db
    .insert(supplierFeeds)
    .values({ supplierId: input.supplierId, feedId, format: input.format, contentHash, body: input.body, lineCount: input.lineCount, workflowId })
    .onConflictDoNothing({ target: [supplierFeeds.supplierId, supplierFeeds.feedId] })
    .returning({ id: supplierFeeds.id });
  if (created) return { feedPk: created.id, feedId, workflowId, created: true };
  const [existing] = await db
    .select({ id: supplierFeeds.id, workflowId: supplierFeeds.workflowId, contentHash: supplierFeeds.contentHash, receivedAt: supplierFeeds.receivedAt })
    .from(supplierFeeds)
    .where(and(eq(supplierFeeds.supplierId, input.supplierId), eq(supplierFeeds.feedId, feedId)));
  if (existing.contentHash !== contentHash) {
    throw new Refusal(
      'feed_conflict',
      `feed "${feedId}" of ${input.supplierId} was received at ${existing.receivedAt.toISOString()} with different content; send a changed feed under a new feed id`,
      'feedId',
    );
  }
  return { feedPk: existing.id, feedId, workflowId: existing.workflowId, created: false };
}

/** A feed's status and summary as stored; undefined when there is no such feed. */
export async function findFeed(db: Db, supplierId: string, feedId: string) {
  const [feed] = await db
    .select({ status: supplierFeeds.status, lineCount: supplierFeeds.lineCount, summary: supplierFeeds.summary, receivedAt: supplierFeeds.receivedAt, completedAt: supplierFeeds.completedAt })
    .from(supplierFeeds)
    .where(and(eq(supplierFeeds.supplierId, supplierId), eq(supplierFeeds.feedId, feedId)));
  return feed;
}

export interface FeedRecord {
  feedPk: number;
  supplierId: string;
  feedId: string;
  format: 'csv' | 'json';
  body: string;
  lineCount: number;
  locationId: number;
  locationCode: string;
}

export async function loadFeed(db: Db, feedPk: number): Promise<FeedRecord> {
  const [row] = await db
    .select({
      supplierId: supplierFeeds.supplierId,
      feedId: supplierFeeds.feedId,
      format: supplierFeeds.format,
      body: supplierFeeds.body,
      lineCount: supplierFeeds.lineCount,
      locationId: suppliers.locationId,
      locationCode: locations.code,
    })
    .from(supplierFeeds)
    .innerJoin(suppliers, eq(suppliers.id, supplierFeeds.supplierId))
    .innerJoin(locations, eq(locations.id, suppliers.locationId))
    .where(eq(supplierFeeds.id, feedPk));
  if (!row) throw new Error(`no stored feed ${feedPk}`);
  return { feedPk, ...row, format: row.format as 'csv' | 'json' };
}

export function loadMappings(db: Db, supplierId: string, supplierSkus: string[]): Promise<Map<string, SkuMapping>> {
  return mappingsIn(clientOf(db), supplierId, supplierSkus);
}

/** The last applied sequence per variant. */
export function loadLastApplied(db: Db, supplierId: string, variantIds: number[]): Promise<Map<number, LastApplied>> {
  return lastAppliedIn(clientOf(db), supplierId, variantIds, false);
}

async function mappingsIn(pg: Sql, supplierId: string, supplierSkus: string[]): Promise<Map<string, SkuMapping>> {
  if (supplierSkus.length === 0) return new Map();
  const rows = await pg<(SkuMapping & { supplierSku: string })[]>`
    SELECT m.supplier_sku AS "supplierSku", v.id AS "variantId", v.sku, m.unit_factor AS "unitFactor", v.allow_negative AS "allowNegative"
    FROM supplier_sku_map m JOIN variants v ON v.id = m.variant_id
    WHERE m.supplier_id = ${supplierId} AND m.supplier_sku = ANY(${supplierSkus}::text[])`;
  return new Map(rows.map(({ supplierSku, ...mapping }) => [supplierSku, mapping]));
}

/** `lock` takes the rows, so two feeds of one supplier apply in turn. */
async function lastAppliedIn(pg: Sql, supplierId: string, variantIds: number[], lock: boolean): Promise<Map<number, LastApplied>> {
  if (variantIds.length === 0) return new Map();
  const rows = await pg<{ variantId: number; sequence: string; quantity: number }[]>`
    SELECT variant_id AS "variantId", last_sequence AS sequence, last_quantity AS quantity
    FROM feed_sequences WHERE supplier_id = ${supplierId} AND variant_id = ANY(${variantIds}::int[])
    ORDER BY variant_id ${lock ? pg`FOR UPDATE` : pg``}`;
  // Sequences are bigint, which the driver returns as text; they are at most Number.MAX_SAFE_INTEGER (schemas/feeds.ts).
  return new Map(rows.map((r) => [r.variantId, { sequence: Number(r.sequence), quantity: r.quantity }]));
}

export function supplierSkusOf(lines: { raw: unknown }[]): string[] {
  const skus = new Set<string>();
  for (const { raw } of lines) {
    const sku = (raw as { sku?: unknown } | null)?.sku;
    if (typeof sku === 'string' && sku.trim() !== '') skus.add(sku.trim());
  }
  return [...skus];
}

export interface ChunkResult {
  counts: FeedCounts;
  held: PlannedLine[];
  unmappedSkus: string[];
  /** True when the chunk had been applied before (a retried or replayed activity). */
  replayed: boolean;
}

/**
 * Applies lines [fromLine, toLine] of a feed in one transaction: each line's outcome is recorded
 * in feed_lines, each applied line sets on-hand at the supplier's location through the ledger's
 * batch (a set_on_hand operation keyed by the line), and the last applied sequence moves forward.
 * A chunk that was already recorded is reported, not applied again.
 */
export async function applyFeedChunk(
  db: Db,
  feed: FeedRecord,
  lines: { lineNo: number; raw: unknown }[],
  rules: Pick<FeedRules, 'spikeAbsolute' | 'spikeRelative'>,
  override: boolean,
): Promise<ChunkResult> {
  const fromLine = lines[0].lineNo;
  const toLine = lines[lines.length - 1].lineNo;
  return clientOf(db).begin(async (tx) => {
    const [, recorded] = await Promise.all([
      tx`SELECT pg_advisory_xact_lock(hashtext(${`feed:${feed.feedPk}`}))`,
      // Sent behind the lock on the same connection: it reads what the lock's last holder committed.
      chunkRecorded(tx, feed.feedPk, fromLine, toLine),
    ]);
    if (recorded) return recorded;

    const mappings = await mappingsIn(tx, feed.supplierId, supplierSkusOf(lines));
    const variantIds = [...new Set([...mappings.values()].map((m) => m.variantId))].sort((a, b) => a - b);
    const lastApplied = await lastAppliedIn(tx, feed.supplierId, variantIds, true);
    const planned = await applyLines(tx, feed, planLines(lines, mappings, lastApplied, rules, override));
    await recordChunk(tx, feed, planned, override);
    return { counts: countOutcomes(planned), held: planned.filter((p) => p.outcome === 'held'), unmappedSkus: unmappedOf(planned), replayed: false };
  });
}

async function chunkRecorded(tx: Sql, feedPk: number, fromLine: number, toLine: number): Promise<ChunkResult | undefined> {
  const rows = await tx<{ lineNo: number; outcome: LineOutcome; reason: string | null; supplierSku: string | null; variantId: number | null; sku: string | null; sequence: string | null; quantity: number | null }[]>`
    SELECT l.line_no AS "lineNo", l.outcome, l.reason, l.supplier_sku AS "supplierSku", l.variant_id AS "variantId", v.sku, l.sequence, l.quantity
    FROM feed_lines l LEFT JOIN variants v ON v.id = l.variant_id
    WHERE l.feed_pk = ${feedPk} AND l.line_no BETWEEN ${fromLine} AND ${toLine}
    ORDER BY l.line_no`;
  if (rows.length === 0) return undefined;
  const planned: PlannedLine[] = rows.map((r) => ({
    lineNo: r.lineNo,
    outcome: r.outcome,
    reason: r.reason ?? undefined,
    supplierSku: r.supplierSku ?? undefined,
    variantId: r.variantId ?? undefined,
    sku: r.sku ?? undefined,
    sequence: r.sequence === null ? undefined : Number(r.sequence),
    quantity: r.quantity ?? undefined,
    rule: r.outcome === 'held' && r.quantity !== null ? heldRuleOf(r.quantity) : undefined,
  }));
  return { counts: countOutcomes(planned), held: planned.filter((p) => p.outcome === 'held'), unmappedSkus: unmappedOf(planned), replayed: true };
}

/**
 * Sets on-hand for the applied lines, in feed order, through the ledger's batch; one movement per
 * line that changes it. A line the ledger refuses (its change would leave the range of a balance)
 * is rejected with the refusal's reason instead.
 */
async function applyLines(tx: Sql, feed: FeedRecord, planned: PlannedLine[]): Promise<PlannedLine[]> {
  const applied = planned.filter((p) => p.outcome === 'applied');
  if (applied.length === 0) return planned;
  const outcomes = await applyStockOperations(tx, applied.map((line) => lineOperation(feed, line)));
  const refused = new Map<number, string>();
  outcomes.forEach((outcome, i) => {
    if ('refusal' in outcome) refused.set(applied[i].lineNo, outcome.refusal.message);
  });
  if (refused.size === 0) return planned;
  return planned.map((p) => (refused.has(p.lineNo) ? { ...p, outcome: 'rejected', reason: refused.get(p.lineNo) } : p));
}

/** What an applied line asks of the ledger: on hand at the supplier's location set to its quantity, keyed by the line. */
export function lineOperation(feed: Pick<FeedRecord, 'supplierId' | 'feedId' | 'locationCode'>, line: PlannedLine): BatchOperation {
  return {
    kind: 'set_on_hand',
    idempotencyKey: idempotencyKeys.feedLine(feed.supplierId, feed.feedId, line.lineNo),
    actor: `supplier:${feed.supplierId}`,
    sourceRef: feed.feedId,
    sku: line.sku as string,
    location: feed.locationCode,
    quantity: line.quantity as number,
  };
}

/**
 * Writes what became of a chunk's lines: one outcome row per line, the last applied sequence and
 * quantity per variant, and the chunk's audit row. (The feed benchmark's baseline writes a feed's
 * lines through this too.)
 */
export async function recordChunk(tx: Sql, feed: Pick<FeedRecord, 'feedPk' | 'supplierId' | 'feedId'>, planned: readonly PlannedLine[], override: boolean): Promise<void> {
  const column = <T>(of: (p: PlannedLine) => T | undefined) => planned.map((p) => of(p) ?? null);
  const last = new Map<number, LastApplied>();
  for (const p of planned) if (p.outcome === 'applied') last.set(p.variantId as number, { sequence: p.sequence as number, quantity: p.quantity as number });
  // In variant order, as lastAppliedIn locks them, so two feeds of one supplier meet in one order.
  const advanced = [...last.keys()].sort((a, b) => a - b);
  const fromLine = planned[0].lineNo;
  const toLine = planned[planned.length - 1].lineNo;
  await Promise.all([
    tx`
      INSERT INTO feed_lines (feed_pk, line_no, supplier_sku, variant_id, sequence, quantity, outcome, reason)
      SELECT ${feed.feedPk}, l.line_no, l.supplier_sku, l.variant_id, l.sequence, l.quantity, l.outcome, l.reason
      FROM unnest(${column((p) => p.lineNo)}::int[], ${column((p) => p.supplierSku)}::text[], ${column((p) => p.variantId)}::int[],
                  ${column((p) => p.sequence)}::bigint[], ${column((p) => p.quantity)}::int[], ${column((p) => p.outcome)}::text[],
                  ${column((p) => p.reason)}::text[]) WITH ORDINALITY AS l(line_no, supplier_sku, variant_id, sequence, quantity, outcome, reason, n)
      ORDER BY l.n`,
    advanced.length > 0 &&
      tx`
        INSERT INTO feed_sequences (supplier_id, variant_id, last_sequence, last_quantity)
        SELECT ${feed.supplierId}, s.variant_id, s.last_sequence, s.last_quantity
        FROM unnest(${advanced}::int[], ${advanced.map((id) => last.get(id)?.sequence as number)}::bigint[],
                    ${advanced.map((id) => last.get(id)?.quantity as number)}::int[]) WITH ORDINALITY AS s(variant_id, last_sequence, last_quantity, n)
        ORDER BY s.n
        ON CONFLICT (supplier_id, variant_id) DO UPDATE SET last_sequence = excluded.last_sequence, last_quantity = excluded.last_quantity, updated_at = now()`,
    tx`
      INSERT INTO audit_log (actor, action, subject_type, subject_id, details)
      VALUES (${`supplier:${feed.supplierId}`}, 'feed.chunk', 'supplier_feed', ${`${feed.supplierId}/${feed.feedId}`},
              ${JSON.stringify({ fromLine, toLine, counts: countOutcomes(planned), override })}::jsonb)`,
  ]);
}

function countOutcomes(planned: readonly PlannedLine[]): FeedCounts {
  const counts = emptyCounts();
  counts.read = planned.length;
  for (const p of planned) counts[p.outcome] += 1;
  return counts;
}

function unmappedOf(planned: readonly PlannedLine[]): string[] {
  return [...new Set(planned.filter((p) => p.outcome === 'unmapped').map((p) => p.supplierSku as string))];
}

/** Records how a feed ended (or that it waits on a person), with its summary. */
export async function markFeed(db: Db, feedPk: number, status: 'processing' | 'applied' | 'quarantined' | 'discarded', summary?: unknown): Promise<void> {
  await db
    .update(supplierFeeds)
    .set({ status, ...(summary === undefined ? {} : { summary }), ...(status === 'applied' || status === 'discarded' ? { completedAt: sql`now()` } : {}) })
    .where(eq(supplierFeeds.id, feedPk));
}

/** Lines of a discarded feed are recorded as discarded, so every line of every accepted feed has an outcome. */
export async function discardRemainingLines(db: Db, feedPk: number, lineCount: number): Promise<void> {
  await db.execute(sql`
    INSERT INTO ${feedLines} (feed_pk, line_no, outcome, reason)
    SELECT ${feedPk}, n, 'discarded', 'the quarantined feed was rejected'
    FROM generate_series(1, ${lineCount}) AS n
    ON CONFLICT (feed_pk, line_no) DO NOTHING`);
}
