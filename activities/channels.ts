import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { adapterFor, type MovedFigure } from '../channels';
import {
  channelOwner,
  clearSettled,
  collectChanges,
  hasChannelWork,
  listChannelIds,
  nextBatch,
  pruneOutbox,
  recordAcknowledged,
  recordFailed,
  settledFigures,
  staleSkus,
} from '../db/channels';
import type { Db } from '../db/connection';
import type { StaleSku } from '../domain/channel-figure';

/** How often a waiting channel looks at the outbox: the floor of its latency, and one cheap query per channel. */
const WORK_POLL_MS = 100;
/** SKUs one sync pushes at most; the workflow calls again at once while more are pending. */
const BATCH_SKUS = 1_000;
const HEARTBEAT_MS = 2_000;

export interface ChannelSyncOutcome {
  collected: number;
  pushed: number;
  acknowledged: number;
  failed: number;
  remaining: number;
  /** The first failure's message (no secret: the adapters never put one in). */
  error?: string;
  moved: MovedFigure[];
  stale: StaleSku[];
  ownerId: string;
}

export interface DriftFinding {
  sku: string;
  expected: number;
  shown: number | null;
}

export function createChannelActivities(db: Db) {
  return {
    /**
     * Waits (up to `maxWaitMs`, heartbeating) until the channel has work, polling the outbox: a
     * workflow then runs one activity per burst of changes rather than a timer per poll.
     */
    async waitForChannelWork(channelId: string, maxWaitMs: number): Promise<boolean> {
      const deadline = Date.now() + maxWaitMs;
      while (Date.now() < deadline) {
        if (await hasChannelWork(db, channelId)) return true;
        Context.current().heartbeat();
        await sleep(WORK_POLL_MS, undefined, { signal: Context.current().cancellationSignal }).catch(() => undefined);
        if (Context.current().cancellationSignal.aborted) return false;
      }
      return false;
    },

    /**
     * One round of a channel's sync: collect the outbox into pending SKUs, work out their figures
     * now, push those newer than what the channel has, and record what it acknowledged. A channel
     * that does not answer is not an activity failure: its SKUs stay pending with the error, and
     * the workflow backs off.
     */
    async syncChannel(channelId: string): Promise<ChannelSyncOutcome> {
      // A killed worker is noticed by the missing heartbeat in seconds, not at the end of the
      // timeout a slow channel needs; the adapters bound every request themselves.
      const context = Context.current();
      const beat = setInterval(() => context.heartbeat(), HEARTBEAT_MS);
      try {
        return await syncRound(db, channelId);
      } finally {
        clearInterval(beat);
      }
    },

    /** Reads back what the channel shows for every settled SKU and returns each one that differs from what it should show. */
    async checkChannelDrift(channelId: string): Promise<{ checked: number; drift: DriftFinding[]; ownerId: string; readable: boolean }> {
      const { target, skus } = await settledFigures(db, channelId);
      const ownerId = await channelOwner(db, channelId);
      const shown = await (await adapterFor(target)).read(skus.map((s) => s.externalId));
      if (!shown) return { checked: 0, drift: [], ownerId, readable: false };
      const drift = skus
        .map((s) => ({ sku: s.sku, expected: s.expected, shown: shown.get(s.externalId) ?? null }))
        .filter((s) => s.shown !== s.expected);
      return { checked: skus.length, drift, ownerId, readable: true };
    },

    async listChannels(): Promise<string[]> {
      return listChannelIds(db);
    },

    async pruneAvailabilityOutbox(): Promise<number> {
      return pruneOutbox(db);
    },
  };
}

/** One sync round (see syncChannel). */
async function syncRound(db: Db, channelId: string): Promise<ChannelSyncOutcome> {
  const collected = await collectChanges(db, channelId);
    const batch = await nextBatch(db, channelId, BATCH_SKUS);
    await clearSettled(db, channelId, batch.settled);
    const outcome: ChannelSyncOutcome = { collected, pushed: batch.publications.length, acknowledged: 0, failed: 0, remaining: batch.remaining, moved: [], stale: [], ownerId: '' };
    if (batch.publications.length > 0) {
      let pushed;
      try {
        pushed = await (await adapterFor(batch.target)).push(batch.publications);
      } catch (error) {
        pushed = { acknowledged: [], moved: [], failed: batch.publications.map((publication) => ({ publication, error: (error as Error).message })) };
      }
      const byVariant = new Map(batch.publications.map((p) => [p.sku, p.variantId]));
      await recordAcknowledged(
        db,
        channelId,
        pushed.acknowledged.map((p) => ({ variantId: byVariant.get(p.sku) as number, published: p.available, version: p.version })),
      );
      if (pushed.failed.length > 0) {
        outcome.error = pushed.failed[0].error;
        await recordFailed(db, channelId, pushed.failed.map((f) => byVariant.get(f.publication.sku) as number), outcome.error);
      }
      outcome.acknowledged = pushed.acknowledged.length;
      outcome.failed = pushed.failed.length;
      outcome.remaining += pushed.failed.length;
      outcome.moved = pushed.moved;
    }
    if (outcome.failed > 0 || outcome.remaining > 0) outcome.stale = await staleSkus(db, channelId);
    if (outcome.stale.length > 0 || outcome.moved.length > 0) outcome.ownerId = await channelOwner(db, channelId);
    return outcome;
}
