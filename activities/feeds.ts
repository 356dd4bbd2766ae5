import { Context } from '@temporalio/activity';
import type { Db } from '../db/connection';
import { applyFeedChunk as applyChunk, discardRemainingLines, loadFeed, loadLastApplied, loadMappings, markFeed, supplierSkusOf, type ChunkResult, type FeedRecord } from '../db/feeds';
import { parseCsvFeed, type RawFeed } from '../domain/feed-parse';
import { countsLookBroken, planLines, type PlannedLine } from '../domain/feed-rules';
import { emptyCounts, type FeedCounts, type FeedRules } from '../schemas/feeds';
import { metrics } from '../runtime/metrics';

export interface FeedAssessment {
  lineCount: number;
  counts: FeedCounts;
  broken: boolean;
  /** The first suspect lines, for the person deciding on a quarantined feed. */
  sample: PlannedLine[];
  locationCode: string;
}

/** Parsed bodies of the feeds this worker is working through, so each chunk does not re-parse the feed. */
const PARSED_CACHE_SIZE = 4;
/**
 * Lines planned at a time when judging a whole feed: the plan of a 100,000-line feed held at once
 * cost the worker well over 100 MB. Slices give the same plan (only lastApplied carries over).
 */
const ASSESS_SLICE = 2000;
/** Held lines shown to whoever decides on a quarantined feed. */
const SAMPLE_SIZE = 20;

export function createFeedActivities(db: Db) {
  const parsed = new Map<number, { feed: FeedRecord; raw: RawFeed }>();

  async function feedWithLines(feedPk: number): Promise<{ feed: FeedRecord; raw: RawFeed }> {
    const cached = parsed.get(feedPk);
    if (cached) return cached;
    const feed = await loadFeed(db, feedPk);
    const raw = feed.format === 'csv' ? parseCsvFeed(feed.body) : { lines: (JSON.parse(feed.body) as { lines: unknown[] }).lines };
    parsed.set(feedPk, { feed, raw });
    if (parsed.size > PARSED_CACHE_SIZE) parsed.delete(parsed.keys().next().value as number);
    return { feed, raw };
  }

  const numbered = (raw: RawFeed, from: number, to: number) => raw.lines.slice(from - 1, to).map((line, i) => ({ lineNo: from + i, raw: line }));

  return {
    /** Judges a whole feed against current state without changing anything: is it broken? */
    async assessFeed(input: { feedPk: number; rules: FeedRules }): Promise<FeedAssessment> {
      const { feed, raw } = await feedWithLines(input.feedPk);
      const lineCount = raw.lines.length;
      const slices = function* () {
        for (let from = 1; from <= lineCount; from += ASSESS_SLICE) yield numbered(raw, from, Math.min(from + ASSESS_SLICE - 1, lineCount));
      };
      const skus = new Set<string>();
      for (const slice of slices()) for (const sku of supplierSkusOf(slice)) skus.add(sku);
      const mappings = await loadMappings(db, feed.supplierId, [...skus]);
      const lastApplied = await loadLastApplied(db, feed.supplierId, [...new Set([...mappings.values()].map((m) => m.variantId))]);
      Context.current().heartbeat({ phase: 'planned' });
      const counts = emptyCounts();
      const sample: PlannedLine[] = [];
      for (const slice of slices()) {
        for (const p of planLines(slice, mappings, lastApplied, input.rules)) {
          counts[p.outcome] += 1;
          if (p.outcome === 'held' && sample.length < SAMPLE_SIZE) sample.push(p);
        }
      }
      counts.read = lineCount;
      return { lineCount, counts, broken: countsLookBroken(counts, input.rules), sample, locationCode: feed.locationCode };
    },

    /** Applies one chunk of lines (idempotent per chunk; see db/feeds.ts). */
    async applyFeedChunk(input: { feedPk: number; fromLine: number; toLine: number; rules: FeedRules; override: boolean }): Promise<ChunkResult & { locationCode: string }> {
      const { feed, raw } = await feedWithLines(input.feedPk);
      Context.current().heartbeat({ fromLine: input.fromLine });
      const result = await applyChunk(db, feed, numbered(raw, input.fromLine, input.toLine), input.rules, input.override);
      if (!result.replayed) {
        for (const [outcome, n] of Object.entries(result.counts)) if (outcome !== 'read' && n > 0) metrics.feedLines.inc({ outcome }, n);
      }
      return { ...result, locationCode: feed.locationCode };
    },

    async markFeed(input: { feedPk: number; status: 'processing' | 'applied' | 'quarantined' | 'discarded'; summary?: unknown }): Promise<void> {
      await markFeed(db, input.feedPk, input.status, input.summary);
      // A feed that has ended needs its lines no more: do not keep them until four newer feeds push them out.
      if (input.status === 'applied' || input.status === 'discarded') parsed.delete(input.feedPk);
      if (input.status === 'discarded') await discardRemainingLines(db, input.feedPk, (await loadFeed(db, input.feedPk)).lineCount);
    },
  };
}
