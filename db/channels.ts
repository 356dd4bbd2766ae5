import { publishedFigure, type SkuAvailability, type StaleSku } from '../domain/channel-figure';
import { Refusal } from '../domain/refusal';
import { CHANNEL_SYNC_EXCEPTION, type BufferRules, type ChannelKind, type ChannelRegistration, type ChannelSettings, type ChannelStatus, type ChannelTarget, type Publication } from '../schemas/channels';
import { clientOf, type Sql } from './client';
import type { Db } from './connection';
import { StockRefusal } from './errors';
import { resolveResponsibility } from './ownership';

/** The ownership domain of channel sync: its rule names the default owner of a channel and its exceptions' backup and escalation. */
export const CHANNEL_SYNC_DOMAIN = CHANNEL_SYNC_EXCEPTION;

/** Outbox rows one collection reads at most; the rest is read by the next. */
const COLLECT_LIMIT = 20_000;

/**
 * Registers a channel, or replaces one (its cursor and what it last published stay). Every mapped
 * SKU is then pending under a new version: a channel learns the full picture first, and a SKU
 * newly mapped is published even if it never moves again.
 */
export async function registerChannel(db: Db, reg: ChannelRegistration): Promise<void> {
  const owner = reg.owner ?? (await resolveResponsibility(db, { type: CHANNEL_SYNC_DOMAIN })).owner.id;
  await clientOf(db).begin(async (tx) => {
    const [known] = await tx<{ owner: boolean }[]>`SELECT EXISTS (SELECT FROM owners WHERE id = ${owner}) AS owner`;
    if (!known.owner) throw new Refusal('not_found', `unknown owner "${owner}"`, 'owner');
    const locations = await tx<{ id: number; code: string }[]>`SELECT id, code FROM locations WHERE code = ANY(${reg.locations}::text[])`;
    const missingLocation = reg.locations.find((code) => !locations.some((l) => l.code === code));
    if (missingLocation) throw new StockRefusal('unknown_location', `unknown location "${missingLocation}"`, 'locations');
    const skus = reg.skus.map((m) => m.sku);
    const variants = await tx<{ id: number; sku: string }[]>`SELECT id, sku FROM variants WHERE sku = ANY(${skus}::text[])`;
    const ids = new Map(variants.map((v) => [v.sku, v.id]));
    const unknown = reg.skus.findIndex((m) => !ids.has(m.sku));
    if (unknown >= 0) throw new StockRefusal('unknown_sku', `unknown SKU "${reg.skus[unknown].sku}"`, `skus.${unknown}.sku`);
    // A new channel starts at the outbox's horizon: rows of transactions older than every running
    // one are already in the balances its first full publication reads.
    await tx`
      INSERT INTO channels (id, kind, name, owner_id, buffer, settings, secret_ref, staleness_seconds, cursor_txid, cursor_seq)
      VALUES (${reg.id}, ${reg.kind}, ${reg.name}, ${owner}, ${JSON.stringify(reg.buffer)}::jsonb, ${JSON.stringify(reg.settings)}::jsonb, ${reg.secretRef}, ${reg.staleAfter},
              pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1, ${Number.MAX_SAFE_INTEGER})
      ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, owner_id = excluded.owner_id, buffer = excluded.buffer,
        settings = excluded.settings, secret_ref = excluded.secret_ref, staleness_seconds = excluded.staleness_seconds`;
    await tx`DELETE FROM channel_locations WHERE channel_id = ${reg.id}`;
    await tx`INSERT INTO channel_locations (channel_id, location_id) SELECT ${reg.id}, unnest(${locations.map((l) => l.id)}::int[])`;
    await tx`DELETE FROM channel_skus WHERE channel_id = ${reg.id}`;
    await tx`DELETE FROM channel_pending WHERE channel_id = ${reg.id} AND NOT (variant_id = ANY(${[...ids.values()]}::int[]))`;
    if (reg.skus.length > 0) {
      await tx`
        INSERT INTO channel_skus (channel_id, variant_id, external_id, tags)
        SELECT ${reg.id}, m.variant_id, m.external_id, m.tags
        FROM jsonb_to_recordset(${JSON.stringify(reg.skus.map((m) => ({ variant_id: ids.get(m.sku), external_id: m.externalId, tags: m.tags })))}::jsonb) AS m(variant_id int, external_id text, tags text[])`;
    }
    await markAllPending(tx, reg.id);
  });
}

/** Publishes every mapped SKU of the channel again (`stockflow channels resync`), under a version newer than any sent. */
export async function resyncChannel(db: Db, channelId: string): Promise<{ pending: number }> {
  return clientOf(db).begin(async (tx) => {
    await requireChannel(tx, channelId);
    return { pending: await markAllPending(tx, channelId) };
  });
}

async function markAllPending(tx: Sql, channelId: string): Promise<number> {
  const marked = await tx`
    WITH version AS (SELECT nextval(pg_get_serial_sequence('availability_changes', 'seq')) AS v)
    INSERT INTO channel_pending (channel_id, variant_id, version, first_changed_at)
    SELECT ${channelId}, cs.variant_id, version.v, now() FROM channel_skus cs, version WHERE cs.channel_id = ${channelId}
    ON CONFLICT (channel_id, variant_id) DO UPDATE SET version = excluded.version, attempts = 0`;
  return marked.count;
}

async function requireChannel(sql: Sql, channelId: string): Promise<void> {
  const [row] = await sql`SELECT 1 FROM channels WHERE id = ${channelId}`;
  if (!row) throw new Refusal('not_found', `no channel "${channelId}"`, 'id');
}

/**
 * Moves the outbox rows past the channel's cursor into its pending SKUs, one row per SKU however
 * many changes (the coalescing). Only rows of transactions older than every transaction still
 * running are read: a later commit can then never bring a row behind the cursor, so none is
 * skipped. Returns how many outbox rows were read.
 */
export async function collectChanges(db: Db, channelId: string): Promise<number> {
  const [row] = await clientOf(db)<{ read: number }[]>`
    WITH channel AS (
      SELECT cursor_txid, cursor_seq FROM channels WHERE id = ${channelId} FOR UPDATE
    ), horizon AS (
      SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
    ), batch AS MATERIALIZED (
      SELECT c.txid, c.seq, c.variant_id, c.location_id, c.changed_at
      FROM availability_changes c, channel, horizon
      WHERE (c.txid, c.seq) > (channel.cursor_txid, channel.cursor_seq) AND c.txid < horizon.xmin
      ORDER BY c.txid, c.seq
      LIMIT ${COLLECT_LIMIT}
    ), last AS (
      SELECT txid, seq FROM batch ORDER BY txid DESC, seq DESC LIMIT 1
    ), relevant AS (
      SELECT b.variant_id, max(b.seq) AS version, min(b.changed_at) AS first_changed_at
      FROM batch b
      JOIN channel_locations cl ON cl.channel_id = ${channelId} AND cl.location_id = b.location_id
      JOIN channel_skus cs ON cs.channel_id = ${channelId} AND cs.variant_id = b.variant_id
      GROUP BY b.variant_id
    ), pending AS (
      INSERT INTO channel_pending (channel_id, variant_id, version, first_changed_at)
      SELECT ${channelId}, variant_id, version, first_changed_at FROM relevant
      ON CONFLICT (channel_id, variant_id) DO UPDATE
        SET version = greatest(channel_pending.version, excluded.version),
            first_changed_at = least(channel_pending.first_changed_at, excluded.first_changed_at)
    ), moved AS (
      UPDATE channels SET cursor_txid = last.txid, cursor_seq = last.seq FROM last WHERE id = ${channelId}
    )
    SELECT count(*)::int AS read FROM batch`;
  return row.read;
}

/** Whether the channel has work: outbox rows past its cursor that collectChanges may read, or pending SKUs never tried. */
export async function hasChannelWork(db: Db, channelId: string): Promise<boolean> {
  const [row] = await clientOf(db)<{ work: boolean }[]>`
    SELECT EXISTS (
      SELECT FROM availability_changes c, channels ch
      WHERE ch.id = ${channelId} AND (c.txid, c.seq) > (ch.cursor_txid, ch.cursor_seq)
        AND c.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
    ) OR EXISTS (SELECT FROM channel_pending WHERE channel_id = ${channelId} AND attempts = 0) AS work`;
  return row.work;
}

export interface ChannelBatch {
  target: ChannelTarget;
  /** Pending SKUs whose figure is to be sent (their version is newer than the one last published). */
  publications: (Publication & { variantId: number })[];
  /** Pending SKUs already published under their version: nothing to send, only to clear. */
  settled: { variantId: number; version: number }[];
  /** Pending SKUs left after this batch. */
  remaining: number;
}

interface PendingRow {
  variantId: number;
  sku: string;
  externalId: string;
  tags: string[];
  version: number;
  firstChangedAt: Date | string;
  available: number;
  blocked: boolean;
  published: number | null;
  publishedVersion: number | null;
}

/** The next pending SKUs of a channel, oldest change first, with the figure each is to publish now. */
export async function nextBatch(db: Db, channelId: string, limit: number): Promise<ChannelBatch> {
  const sql = clientOf(db);
  const [channel] = await sql<{ kind: ChannelKind; settings: ChannelSettings; secretRef: string; buffer: BufferRules; pending: number }[]>`
    SELECT kind, settings, secret_ref AS "secretRef", buffer, (SELECT count(*)::int FROM channel_pending WHERE channel_id = ${channelId}) AS pending
    FROM channels WHERE id = ${channelId}`;
  if (!channel) throw new Refusal('not_found', `no channel "${channelId}"`, 'channelId');
  const rows = await sql<PendingRow[]>`
    SELECT p.variant_id AS "variantId", v.sku, cs.external_id AS "externalId", cs.tags, p.version::float8 AS version, p.first_changed_at AS "firstChangedAt",
           coalesce(sum(b.available), 0)::int AS available, coalesce(bool_or(b.count_status = 'blocked'), false) AS blocked,
           pub.published, pub.version::float8 AS "publishedVersion"
    FROM (SELECT * FROM channel_pending WHERE channel_id = ${channelId} ORDER BY first_changed_at LIMIT ${limit}) p
    JOIN variants v ON v.id = p.variant_id
    JOIN channel_skus cs ON cs.channel_id = p.channel_id AND cs.variant_id = p.variant_id
    LEFT JOIN stock_balances b ON b.variant_id = p.variant_id
      AND b.location_id IN (SELECT location_id FROM channel_locations WHERE channel_id = ${channelId})
    LEFT JOIN channel_publications pub ON pub.channel_id = p.channel_id AND pub.variant_id = p.variant_id
    GROUP BY p.variant_id, v.sku, cs.external_id, cs.tags, p.version, p.first_changed_at, pub.published, pub.version
    ORDER BY p.first_changed_at`;
  const archived = await archivedVariants(sql, rows.map((r) => r.variantId));
  const publications: ChannelBatch['publications'] = [];
  const settled: ChannelBatch['settled'] = [];
  for (const row of rows) {
    if (row.publishedVersion !== null && row.publishedVersion >= row.version) {
      settled.push({ variantId: row.variantId, version: row.version });
      continue;
    }
    const sku: SkuAvailability = { sku: row.sku, tags: row.tags, available: row.available, blocked: row.blocked, archived: archived.has(row.variantId) };
    publications.push({
      variantId: row.variantId,
      sku: row.sku,
      externalId: row.externalId,
      available: publishedFigure(channel.buffer, sku),
      version: row.version,
      changedAt: isoOf(row.firstChangedAt),
      previous: row.published,
    });
  }
  return {
    target: { id: channelId, kind: channel.kind, settings: channel.settings, secretRef: channel.secretRef },
    publications,
    settled,
    remaining: channel.pending - rows.length,
  };
}

/**
 * The SKUs among `variantIds` that are archived: they publish 0. Archival is read here and nowhere
 * else; archiving or restoring writes outbox rows (a trigger on variants), so the change is pushed.
 */
export async function archivedVariants(sql: Sql, variantIds: readonly number[]): Promise<Set<number>> {
  if (variantIds.length === 0) return new Set();
  const rows = await sql<{ id: number }[]>`SELECT id FROM variants WHERE id = ANY(${[...variantIds]}::int[]) AND archived_at IS NOT NULL`;
  return new Set(rows.map((r) => r.id));
}

/**
 * Records what the channel acknowledged: the figure and version per SKU (never replacing a newer
 * one), and clears each pending SKU whose newest change the acknowledged version covers.
 */
export async function recordAcknowledged(db: Db, channelId: string, acknowledged: readonly { variantId: number; published: number; version: number }[]): Promise<void> {
  if (acknowledged.length === 0) return;
  const rows = acknowledged.map((a) => ({ variant_id: a.variantId, published: a.published, version: a.version }));
  await clientOf(db)`
    WITH acked AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS a(variant_id int, published int, version bigint)
    ), published AS (
      INSERT INTO channel_publications (channel_id, variant_id, published, version)
      SELECT ${channelId}, variant_id, published, version FROM acked
      ON CONFLICT (channel_id, variant_id) DO UPDATE
        SET published = excluded.published, version = excluded.version, published_at = now()
        WHERE channel_publications.version < excluded.version
    ), cleared AS (
      DELETE FROM channel_pending p USING acked a
      WHERE p.channel_id = ${channelId} AND p.variant_id = a.variant_id AND p.version <= a.version
    )
    UPDATE channels SET last_push_at = now(), last_error = NULL, last_error_at = NULL WHERE id = ${channelId}`;
}

/** Clears pending SKUs already published under their version. */
export async function clearSettled(db: Db, channelId: string, settled: readonly { variantId: number; version: number }[]): Promise<void> {
  if (settled.length === 0) return;
  await clientOf(db)`
    DELETE FROM channel_pending p
    USING unnest(${settled.map((s) => s.variantId)}::int[], ${settled.map((s) => s.version)}::bigint[]) AS s(variant_id, version)
    WHERE p.channel_id = ${channelId} AND p.variant_id = s.variant_id AND p.version <= s.version`;
}

/** Counts a failed attempt on each SKU and on the channel; the message never holds a secret (the adapters see to it). */
export async function recordFailed(db: Db, channelId: string, variantIds: readonly number[], error: string): Promise<void> {
  const message = error.slice(0, 500);
  await clientOf(db)`
    WITH failed AS (
      UPDATE channel_pending SET attempts = attempts + 1, last_error = ${message}
      WHERE channel_id = ${channelId} AND variant_id = ANY(${[...variantIds]}::int[])
    )
    UPDATE channels SET last_error = ${message}, last_error_at = now() WHERE id = ${channelId}`;
}

/** Pending SKUs older than the channel's window, with what the channel shows and what it should. */
export async function staleSkus(db: Db, channelId: string, limit = 200): Promise<StaleSku[]> {
  const sql = clientOf(db);
  const rows = await sql<{ variantId: number; sku: string; tags: string[]; buffer: BufferRules; published: number | null; available: number; blocked: boolean; pendingSeconds: number }[]>`
    SELECT p.variant_id AS "variantId", v.sku, cs.tags, ch.buffer, pub.published,
           coalesce(sum(b.available), 0)::int AS available, coalesce(bool_or(b.count_status = 'blocked'), false) AS blocked,
           floor(extract(epoch FROM now() - p.first_changed_at))::int AS "pendingSeconds"
    FROM channel_pending p
    JOIN channels ch ON ch.id = p.channel_id
    JOIN variants v ON v.id = p.variant_id
    JOIN channel_skus cs ON cs.channel_id = p.channel_id AND cs.variant_id = p.variant_id
    LEFT JOIN stock_balances b ON b.variant_id = p.variant_id
      AND b.location_id IN (SELECT location_id FROM channel_locations WHERE channel_id = ${channelId})
    LEFT JOIN channel_publications pub ON pub.channel_id = p.channel_id AND pub.variant_id = p.variant_id
    WHERE p.channel_id = ${channelId} AND p.first_changed_at < now() - make_interval(secs => ch.staleness_seconds)
    GROUP BY p.variant_id, v.sku, cs.tags, ch.buffer, pub.published, p.first_changed_at
    ORDER BY p.first_changed_at
    LIMIT ${limit}`;
  const archived = await archivedVariants(sql, rows.map((r) => r.variantId));
  return rows.map((r) => ({
    sku: r.sku,
    published: r.published,
    current: publishedFigure(r.buffer, { sku: r.sku, tags: r.tags, available: r.available, blocked: r.blocked, archived: archived.has(r.variantId) }),
    pendingSeconds: r.pendingSeconds,
  }));
}

/** The channel's owner, for its exceptions. */
export async function channelOwner(db: Db, channelId: string): Promise<string> {
  const [row] = await clientOf(db)<{ ownerId: string }[]>`SELECT owner_id AS "ownerId" FROM channels WHERE id = ${channelId}`;
  if (!row) throw new Refusal('not_found', `no channel "${channelId}"`, 'channelId');
  return row.ownerId;
}

/** What the drift check compares: each mapped SKU not waiting for a push, with the figure it should show now. */
export async function settledFigures(db: Db, channelId: string): Promise<{ target: ChannelTarget; skus: { sku: string; externalId: string; expected: number }[] }> {
  const sql = clientOf(db);
  const [channel] = await sql<{ kind: ChannelKind; settings: ChannelSettings; secretRef: string; buffer: BufferRules }[]>`
    SELECT kind, settings, secret_ref AS "secretRef", buffer FROM channels WHERE id = ${channelId}`;
  if (!channel) throw new Refusal('not_found', `no channel "${channelId}"`, 'channelId');
  const rows = await sql<{ variantId: number; sku: string; externalId: string; tags: string[]; available: number; blocked: boolean }[]>`
    SELECT cs.variant_id AS "variantId", v.sku, cs.external_id AS "externalId", cs.tags,
           coalesce(sum(b.available), 0)::int AS available, coalesce(bool_or(b.count_status = 'blocked'), false) AS blocked
    FROM channel_skus cs
    JOIN variants v ON v.id = cs.variant_id
    LEFT JOIN stock_balances b ON b.variant_id = cs.variant_id
      AND b.location_id IN (SELECT location_id FROM channel_locations WHERE channel_id = ${channelId})
    WHERE cs.channel_id = ${channelId}
      AND NOT EXISTS (SELECT FROM channel_pending p WHERE p.channel_id = cs.channel_id AND p.variant_id = cs.variant_id)
    GROUP BY cs.variant_id, v.sku, cs.external_id, cs.tags
    ORDER BY v.sku`;
  const archived = await archivedVariants(sql, rows.map((r) => r.variantId));
  return {
    target: { id: channelId, kind: channel.kind, settings: channel.settings, secretRef: channel.secretRef },
    skus: rows.map((r) => ({
      sku: r.sku,
      externalId: r.externalId,
      expected: publishedFigure(channel.buffer, { sku: r.sku, tags: r.tags, available: r.available, blocked: r.blocked, archived: archived.has(r.variantId) }),
    })),
  };
}

export async function listChannelIds(db: Db): Promise<string[]> {
  const rows = await clientOf(db)<{ id: string }[]>`SELECT id FROM channels ORDER BY id`;
  return rows.map((r) => r.id);
}

/**
 * Deletes outbox rows every channel has collected (all of them when there is no channel: a new
 * channel starts with a full publication, not from the outbox).
 */
export async function pruneOutbox(db: Db): Promise<number> {
  const deleted = await clientOf(db)`
    WITH lowest AS (
      SELECT cursor_txid AS txid, cursor_seq AS seq FROM channels ORDER BY cursor_txid, cursor_seq LIMIT 1
    ), horizon AS (
      SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
    )
    DELETE FROM availability_changes c USING horizon
    WHERE c.txid < horizon.xmin AND (NOT EXISTS (SELECT FROM lowest) OR (c.txid, c.seq) <= (SELECT txid, seq FROM lowest))`;
  return deleted.count;
}

/** A channel's configuration and sync status (`GET /v1/channels/:id`); the secret's reference, never the secret. */
export async function getChannelStatus(db: Db, channelId: string, pendingListed = 50): Promise<ChannelStatus | undefined> {
  const sql = clientOf(db);
  const [row] = await sql<
    {
      id: string;
      kind: ChannelKind;
      name: string;
      owner: string;
      locations: string[];
      buffer: Record<string, unknown>;
      settings: Record<string, unknown>;
      secretRef: string;
      staleAfterSeconds: number;
      mappedSkus: number;
      pendingSkus: number;
      oldestPendingAt: Date | string | null;
      lagSeconds: number | null;
      lastPushAt: Date | string | null;
      lastError: string | null;
      lastErrorAt: Date | string | null;
    }[]
  >`
    SELECT ch.id, ch.kind, ch.name, ch.owner_id AS owner, ch.buffer, ch.settings, ch.secret_ref AS "secretRef",
           ch.staleness_seconds AS "staleAfterSeconds", ch.last_push_at AS "lastPushAt", ch.last_error AS "lastError", ch.last_error_at AS "lastErrorAt",
           ARRAY(SELECT l.code FROM channel_locations cl JOIN locations l ON l.id = cl.location_id WHERE cl.channel_id = ch.id ORDER BY l.code) AS locations,
           (SELECT count(*)::int FROM channel_skus WHERE channel_id = ch.id) AS "mappedSkus",
           (SELECT count(*)::int FROM channel_pending WHERE channel_id = ch.id) AS "pendingSkus",
           (SELECT min(first_changed_at) FROM channel_pending WHERE channel_id = ch.id) AS "oldestPendingAt",
           (SELECT extract(epoch FROM now() - min(first_changed_at))::float8 FROM channel_pending WHERE channel_id = ch.id) AS "lagSeconds"
    FROM channels ch WHERE ch.id = ${channelId}`;
  if (!row) return undefined;
  const pending = await sql<{ sku: string; since: Date | string; attempts: number; lastError: string | null }[]>`
    SELECT v.sku, p.first_changed_at AS since, p.attempts, p.last_error AS "lastError"
    FROM channel_pending p JOIN variants v ON v.id = p.variant_id
    WHERE p.channel_id = ${channelId} ORDER BY p.first_changed_at, v.sku LIMIT ${pendingListed}`;
  const { oldestPendingAt, lastPushAt, lastErrorAt, lagSeconds, ...rest } = row;
  return {
    ...rest,
    lagSeconds: lagSeconds === null ? null : Math.max(0, lagSeconds),
    oldestPendingAt: oldestPendingAt === null ? null : isoOf(oldestPendingAt),
    lastPushAt: lastPushAt === null ? null : isoOf(lastPushAt),
    lastErrorAt: lastErrorAt === null ? null : isoOf(lastErrorAt),
    pending: pending.map((p) => ({ ...p, since: isoOf(p.since) })),
  };
}

/** A timestamp as the API gives it; the pool's parsers leave timestamptz as Postgres's text. */
function isoOf(value: Date | string): string {
  return new Date(value).toISOString();
}
