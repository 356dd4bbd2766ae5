import { idempotencyKeys } from '../domain/keys';
import { and, between, eq, sql } from 'drizzle-orm';
import { planLines, type LastApplied, type PlannedLine, type SkuMapping } from '../domain/feed-rules';
import { emptyCounts, type FeedCounts, type FeedRules, type LineOutcome } from '../schemas/feeds';
import { canonicalJson, sha256 } from './canonical';
import type { Db, Tx } from './connection';
import { Refusal } from '../domain/refusal';
import { requireActiveSupplier } from './suppliers';
import {
  auditLog,
  feedLines,
  feedSequences,
  locations,
  stockBalances,
  stockMovements,
  stockOperations,
  supplierFeeds,
  supplierSkuMap,
  suppliers,
  variants,
} from './schema';

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

export async function loadMappings(db: Db | Tx, supplierId: string, supplierSkus: string[]): Promise<Map<string, SkuMapping>> {
  if (supplierSkus.length === 0) return new Map();
  const rows = await db
    .select({ supplierSku: supplierSkuMap.supplierSku, variantId: variants.id, sku: variants.sku, unitFactor: supplierSkuMap.unitFactor, allowNegative: variants.allowNegative })
    .from(supplierSkuMap)
    .innerJoin(variants, eq(variants.id, supplierSkuMap.variantId))
    .where(and(eq(supplierSkuMap.supplierId, supplierId), sql`${supplierSkuMap.supplierSku} = ANY(${textArray(supplierSkus)})`));
  return new Map(rows.map((r) => [r.supplierSku, { variantId: r.variantId, sku: r.sku, unitFactor: r.unitFactor, allowNegative: r.allowNegative }]));
}

/** The last applied sequence per variant; `lock` takes the rows so two feeds of one supplier apply in turn. */
export async function loadLastApplied(db: Db | Tx, supplierId: string, variantIds: number[], lock = false): Promise<Map<number, LastApplied>> {
  if (variantIds.length === 0) return new Map();
  const query = db
    .select({ variantId: feedSequences.variantId, sequence: feedSequences.lastSequence, quantity: feedSequences.lastQuantity })
    .from(feedSequences)
    .where(and(eq(feedSequences.supplierId, supplierId), sql`${feedSequences.variantId} = ANY(${intArray(variantIds)})`))
    .orderBy(feedSequences.variantId);
  const rows = lock ? await query.for('update') : await query;
  return new Map(rows.map((r) => [r.variantId, { sequence: r.sequence, quantity: r.quantity }]));
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
 * A whole column as one array parameter, for `= ANY(…)` and `unnest(…)`: one bind value however
 * long the list, where inArray and multi-row VALUES send one per element.
 */
const intArray = (values: readonly (number | null)[]) => sql`${sql.param(values)}::int[]`;
const bigintArray = (values: readonly (number | null)[]) => sql`${sql.param(values)}::bigint[]`;
const textArray = (values: readonly (string | null)[]) => sql`${sql.param(values)}::text[]`;

/**
 * Applies lines [fromLine, toLine] of a feed in one transaction: each line's outcome is recorded
 * in feed_lines, each applied line sets on-hand at the supplier's location through a ledger
 * movement keyed by the line, and the last applied sequence moves forward. A chunk that was
 * already recorded is reported, not applied again.
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
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`feed:${feed.feedPk}`}))`);
    const recorded = await chunkRecorded(tx, feed.feedPk, fromLine, toLine);
    if (recorded) return recorded;

    const mappings = await loadMappings(tx, feed.supplierId, supplierSkusOf(lines));
    const variantIds = [...new Set([...mappings.values()].map((m) => m.variantId))].sort((a, b) => a - b);
    const lastApplied = await loadLastApplied(tx, feed.supplierId, variantIds, true);
    const planned = planLines(lines, mappings, lastApplied, rules, override);
    const applied = planned.filter((p) => p.outcome === 'applied');

    if (applied.length > 0) await applyLines(tx, feed, applied, mappings);
    await recordLines(tx, feed, planned, lastApplied);
    await tx.insert(auditLog).values({
      actor: `supplier:${feed.supplierId}`,
      action: 'feed.chunk',
      subjectType: 'supplier_feed',
      subjectId: `${feed.supplierId}/${feed.feedId}`,
      details: { fromLine, toLine, counts: countOutcomes(planned), override },
    });
    return { counts: countOutcomes(planned), held: planned.filter((p) => p.outcome === 'held'), unmappedSkus: unmappedOf(planned), replayed: false };
  });
}

async function chunkRecorded(tx: Tx, feedPk: number, fromLine: number, toLine: number): Promise<ChunkResult | undefined> {
  const rows = await tx
    .select({ lineNo: feedLines.lineNo, outcome: feedLines.outcome, reason: feedLines.reason, supplierSku: feedLines.supplierSku, variantId: feedLines.variantId, sku: variants.sku, sequence: feedLines.sequence, quantity: feedLines.quantity })
    .from(feedLines)
    .leftJoin(variants, eq(variants.id, feedLines.variantId))
    .where(and(eq(feedLines.feedPk, feedPk), between(feedLines.lineNo, fromLine, toLine)));
  if (rows.length === 0) return undefined;
  const planned: PlannedLine[] = rows.map((r) => ({
    lineNo: r.lineNo,
    outcome: r.outcome as LineOutcome,
    reason: r.reason ?? undefined,
    supplierSku: r.supplierSku ?? undefined,
    variantId: r.variantId ?? undefined,
    sku: r.sku ?? undefined,
    sequence: r.sequence ?? undefined,
    quantity: r.quantity ?? undefined,
    rule: r.reason?.startsWith('negative') ? 'negative' : r.outcome === 'held' ? 'spike' : undefined,
  }));
  return { counts: countOutcomes(planned), held: planned.filter((p) => p.outcome === 'held'), unmappedSkus: unmappedOf(planned), replayed: true };
}

/** Sets on-hand line by line in feed order, one ledger movement per line that changes it. */
async function applyLines(tx: Tx, feed: FeedRecord, applied: PlannedLine[], mappings: Map<string, SkuMapping>): Promise<void> {
  const variantIds = [...new Set(applied.map((p) => p.variantId as number))].sort((a, b) => a - b);
  const allowNegative = new Map([...mappings.values()].map((m) => [m.variantId, m.allowNegative]));
  await tx.execute(sql`
    INSERT INTO ${stockBalances} (variant_id, location_id, allow_negative)
    SELECT t.variant_id, ${feed.locationId}::int, t.allow_negative = 1
    FROM unnest(${intArray(variantIds)}, ${intArray(variantIds.map((id) => (allowNegative.get(id) ? 1 : 0)))}) AS t(variant_id, allow_negative)
    ON CONFLICT (variant_id, location_id) DO NOTHING`);
  const balances = await tx
    .select({ variantId: stockBalances.variantId, onHand: stockBalances.onHand })
    .from(stockBalances)
    .where(and(eq(stockBalances.locationId, feed.locationId), sql`${stockBalances.variantId} = ANY(${intArray(variantIds)})`))
    .orderBy(stockBalances.variantId)
    .for('update');
  const onHand = new Map(balances.map((b) => [b.variantId, b.onHand]));

  const keys: string[] = [];
  const requestHashes: string[] = [];
  const results: string[] = [];
  const movedVariants: number[] = [];
  const deltas: number[] = [];
  for (const line of applied) {
    const variantId = line.variantId as number;
    const delta = (line.quantity as number) - (onHand.get(variantId) ?? 0);
    onHand.set(variantId, line.quantity as number);
    if (delta === 0) continue;
    keys.push(idempotencyKeys.feedLine(feed.supplierId, feed.feedId, line.lineNo));
    requestHashes.push(sha256(canonicalJson({ feed: feed.feedId, line: line.lineNo, sku: line.sku, quantity: line.quantity, sequence: line.sequence })));
    results.push(JSON.stringify({ quantity: line.quantity, delta, sequence: line.sequence }));
    movedVariants.push(variantId);
    deltas.push(delta);
  }
  if (keys.length > 0) {
    const actor = `supplier:${feed.supplierId}`;
    // One statement per chunk, whole columns as array parameters: a multi-row VALUES list costs
    // a bind parameter (and Drizzle's building of it) per cell, which dominated large feeds.
    await tx.execute(sql`
      WITH operations AS (
        INSERT INTO ${stockOperations} (idempotency_key, kind, request_hash, actor, result)
        SELECT o.key, 'supplier_feed', o.request_hash, ${actor}::text, o.result::jsonb
        FROM unnest(${textArray(keys)}, ${textArray(requestHashes)}, ${textArray(results)}) WITH ORDINALITY AS o(key, request_hash, result, n)
        ORDER BY o.n
        RETURNING id, idempotency_key
      )
      INSERT INTO ${stockMovements} (operation_id, idempotency_key, variant_id, location_id, kind, delta_on_hand, reason_code, source_ref, actor)
      SELECT op.id, m.key, m.variant_id, ${feed.locationId}::int, 'supplier_feed', m.delta, 'supplier_feed', ${feed.feedId}::text, ${actor}::text
      FROM unnest(${textArray(keys)}, ${intArray(movedVariants)}, ${intArray(deltas)}) WITH ORDINALITY AS m(key, variant_id, delta, n)
      JOIN operations op ON op.idempotency_key = m.key
      ORDER BY m.n`);
  }
  const finals = [...onHand.keys()];
  await tx.execute(sql`
    UPDATE ${stockBalances} AS b SET on_hand = f.on_hand, updated_at = now()
    FROM unnest(${intArray(finals)}, ${intArray(finals.map((id) => onHand.get(id) as number))}) AS f(variant_id, on_hand)
    WHERE b.variant_id = f.variant_id AND b.location_id = ${feed.locationId}`);
}

async function recordLines(tx: Tx, feed: FeedRecord, planned: PlannedLine[], lastApplied: Map<number, LastApplied>): Promise<void> {
  const column = <T>(of: (p: PlannedLine) => T | undefined) => planned.map((p) => of(p) ?? null);
  await tx.execute(sql`
    INSERT INTO ${feedLines} (feed_pk, line_no, supplier_sku, variant_id, sequence, quantity, outcome, reason)
    SELECT ${feed.feedPk}::bigint, l.line_no, l.supplier_sku, l.variant_id, l.sequence, l.quantity, l.outcome, l.reason
    FROM unnest(${intArray(column((p) => p.lineNo))}, ${textArray(column((p) => p.supplierSku))}, ${intArray(column((p) => p.variantId))},
                ${bigintArray(column((p) => p.sequence))}, ${intArray(column((p) => p.quantity))}, ${textArray(column((p) => p.outcome))},
                ${textArray(column((p) => p.reason))}) WITH ORDINALITY AS l(line_no, supplier_sku, variant_id, sequence, quantity, outcome, reason, n)
    ORDER BY l.n`);
  const advanced = [...new Set(planned.filter((p) => p.outcome === 'applied').map((p) => p.variantId as number))];
  if (advanced.length === 0) return;
  const last = advanced.map((variantId) => lastApplied.get(variantId) as LastApplied);
  await tx.execute(sql`
    INSERT INTO ${feedSequences} (supplier_id, variant_id, last_sequence, last_quantity)
    SELECT ${feed.supplierId}::text, s.variant_id, s.last_sequence, s.last_quantity
    FROM unnest(${intArray(advanced)}, ${bigintArray(last.map((l) => l.sequence))}, ${intArray(last.map((l) => l.quantity))}) WITH ORDINALITY AS s(variant_id, last_sequence, last_quantity, n)
    ORDER BY s.n
    ON CONFLICT (supplier_id, variant_id) DO UPDATE SET last_sequence = excluded.last_sequence, last_quantity = excluded.last_quantity, updated_at = now()`);
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
