import { z } from 'zod';
import { LocationCode, notPlaceholder, PLACEHOLDER_REASON, Sku } from './common';
import { DurationSeconds } from './duration';
import { OwnerId } from './ownership';

export const ChannelId = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "_" or "-"')
  .refine(notPlaceholder, PLACEHOLDER_REASON);

export const ChannelKind = z.enum(['shopify', 'webhook']);
export type ChannelKind = z.infer<typeof ChannelKind>;

const units = z.number({ error: 'must be a number' }).int('must be a whole number of units').min(0, 'must not be negative').max(1_000_000_000);

/**
 * Share of available offered to the channel, in basis points (9000 = 90%), so the figure is
 * integer arithmetic: floor(0.29 × 100) is 28 in floating point.
 */
const shareBp = z
  .number({ error: 'must be a number' })
  .min(0, 'must be between 0 and 1')
  .max(1, 'must be between 0 and 1')
  .refine((v) => Math.abs(v * 10_000 - Math.round(v * 10_000)) < 1e-6, 'must have at most 4 decimals')
  .transform((v) => Math.round(v * 10_000));

/** One buffer rule; every field of an override is optional and falls back to the channel's rule. */
export const BufferRule = z.object({
  // prefault, not default: a default is taken as the parsed value, skipping the transform to basis points.
  share: shareBp.prefault(1).describe('share of available offered, 0..1 (0.9 = 90%)'),
  safety: units.default(0).describe('units held back after the share'),
  min: units.default(0).describe('never offer fewer than this while stock covers it'),
  max: units.nullable().default(null).describe('never offer more than this; null: no ceiling'),
});
export type BufferRule = z.infer<typeof BufferRule>;

export const BufferOverride = z.object({ share: shareBp.optional(), safety: units.optional(), min: units.optional(), max: units.nullable().optional() });
export type BufferOverride = z.infer<typeof BufferOverride>;

const Tag = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits, ".", "_", ":" and "-"');

export const BufferRules = BufferRule.extend({
  /** Per-SKU rules win over per-tag rules, which win over the channel's. */
  skus: z.record(Sku, BufferOverride).default({}),
  /** When a SKU carries several overridden tags, the first in alphabetical order wins. */
  tags: z.record(Tag, BufferOverride).default({}),
}).superRefine((rule, ctx) => {
  if (rule.max !== null && rule.max < rule.min) ctx.addIssue({ code: 'custom', path: ['max'], message: 'must not be below min' });
});
export type BufferRules = z.infer<typeof BufferRules>;

/** `env:NAME` (an environment variable of the worker) or `file:/path/to/secrets.json#key`; the secret itself is never sent. */
export const SecretRef = z
  .string()
  .trim()
  .max(500)
  .regex(/^(env:[A-Z_][A-Z0-9_]*|file:\/[^#\s]+#[A-Za-z0-9._-]+)$/, 'must be env:NAME or file:/absolute/path.json#key (where the secret lives, never the secret)');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);

export const WebhookSettings = z.strictObject({
  url: httpUrl.describe('where figures are POSTed'),
  readUrl: httpUrl.optional().describe('GET ?sku= answers {available}: read back by the drift check'),
});

export const ShopifySettings = z.strictObject({
  shopUrl: httpUrl.describe('https://<shop>.myshopify.com'),
  apiVersion: z.literal('2026-04').default('2026-04'),
  locationId: z.string().trim().min(1).max(200).describe('the Shopify location gid the figures are set at'),
});

export const ChannelMapping = z.object({
  sku: Sku,
  externalId: z.string().trim().min(1, 'must not be empty').max(200).describe("the channel's id: Shopify inventory item gid, or the receiver's"),
  tags: z.array(Tag).max(20).default([]),
});
export type ChannelMapping = z.infer<typeof ChannelMapping>;

const common = {
  name: z.string().trim().min(1, 'must not be empty').max(200),
  owner: OwnerId.optional().describe('who gets its exceptions; default: the owner of the channel_sync ownership rule'),
  locations: z.array(LocationCode).min(1, 'must list at least one location').max(100),
  buffer: BufferRules.default(BufferRules.parse({})),
  secretRef: SecretRef,
  staleAfter: DurationSeconds.default(300).describe('a SKU unpublished for longer raises one exception to the owner'),
  skus: z.array(ChannelMapping).max(10_000).default([]),
};

/** The body of `POST /v1/channels`: registers or replaces a channel. */
export const ChannelRegistration = z
  .discriminatedUnion('kind', [
    z.object({ id: ChannelId, kind: z.literal('webhook'), settings: WebhookSettings, ...common }),
    z.object({ id: ChannelId, kind: z.literal('shopify'), settings: ShopifySettings, ...common }),
  ])
  .superRefine((channel, ctx) => {
    const seen = new Map<string, number>();
    channel.skus.forEach((m, i) => {
      const earlier = seen.get(m.sku);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['skus', i, 'sku'], message: `"${m.sku}" is already mapped by skus.${earlier}` });
      seen.set(m.sku, i);
    });
  });
export type ChannelRegistration = z.infer<typeof ChannelRegistration>;
export type ChannelRegistrationInput = z.input<typeof ChannelRegistration>;
export type ChannelSettings = z.infer<typeof WebhookSettings> | z.infer<typeof ShopifySettings>;

/** A channel as the worker needs it to push: never the secret, only where it lives. */
export interface ChannelTarget {
  id: string;
  kind: ChannelKind;
  settings: ChannelSettings;
  secretRef: string;
}

/** One SKU's figure on its way to a channel. */
export interface Publication {
  sku: string;
  externalId: string;
  available: number;
  version: number;
  /** When the newest change it covers was committed. */
  changedAt: string;
  /** What we believe the channel shows now: the last figure it acknowledged; null when we know nothing. */
  previous: number | null;
}

/** The status `GET /v1/channels/:id` answers with. */
export const ChannelStatus = z.object({
  id: z.string(),
  kind: ChannelKind,
  name: z.string(),
  owner: z.string(),
  locations: z.array(z.string()),
  buffer: z.record(z.string(), z.unknown()),
  settings: z.record(z.string(), z.unknown()),
  secretRef: z.string().describe('where the secret is read from; the secret is never returned'),
  staleAfterSeconds: z.number(),
  mappedSkus: z.number(),
  pendingSkus: z.number(),
  lagSeconds: z.number().nullable().describe('age of the oldest unpublished change; null when nothing is pending'),
  oldestPendingAt: z.string().nullable(),
  lastPushAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  pending: z.array(z.object({ sku: z.string(), since: z.string(), attempts: z.number(), lastError: z.string().nullable() })),
});
export type ChannelStatus = z.infer<typeof ChannelStatus>;

/** The exception type (and ownership domain) of everything channel sync raises: staleness, drift, a figure moved on the channel. */
export const CHANNEL_SYNC_EXCEPTION = 'channel_sync';
