import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { idempotencyKeys } from '../domain/keys';
import type { ChannelTarget, Publication } from '../schemas/channels';
import { httpProblem, networkProblem, type ChannelAdapter, type MovedFigure, type PushOutcome, type ReadBack } from './adapter';

/** Shopify takes at most this many quantities in one inventorySetQuantities call. */
const QUANTITIES_PER_CALL = 250;
/** What Shopify charges a mutation; a query is charged by what it selects. */
const MUTATION_COST = 10;
/** Throttled answers waited out within one push before it is left to the workflow's retry. */
const MAX_THROTTLED_WAITS = 20;
const TIMEOUT_MS = 20_000;

export const SHOPIFY_API_VERSION = '2026-04';

type ShopifyTarget = ChannelTarget & { settings: { shopUrl: string; locationId: string; apiVersion?: string } };

interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

interface GraphQlAnswer<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
  extensions?: { cost?: { requestedQueryCost: number; actualQueryCost: number | null; throttleStatus: ThrottleStatus } };
}

interface SetQuantitiesData {
  inventorySetQuantities: { userErrors: { code: string | null; field: string[] | null; message: string }[] } | null;
}

interface LevelsData {
  nodes: ({ id: string; inventoryLevel: { quantities: { name: string; quantity: number }[] } | null } | null)[];
}

const LEVELS_QUERY = `query StockflowLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) { ... on InventoryItem { id inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } } } }
}`;

/** The mutation with its idempotency key: the 2026-04 contract requires the `@idempotent` directive. */
function setQuantitiesMutation(key: string): string {
  return `mutation StockflowSetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: ${JSON.stringify(key)}) { userErrors { code field message } }
}`;
}

/** A request Shopify refused for a reason a later try may not have (not a throttle). */
class ShopifyProblem extends Error {}

/**
 * Shopify's GraphQL Admin API, 2026-04: figures are set with `inventorySetQuantities` (name
 * "available"), each quantity carrying `changeFromQuantity` — the figure we believe Shopify has
 * (what it last acknowledged from us), or null when we know nothing — so a figure changed on
 * Shopify meanwhile is not overwritten blindly: Shopify answers CHANGE_FROM_QUANTITY_STALE, the
 * levels are re-read, a figure that moved for a reason we do not know is reported (the caller
 * raises an exception), and ours is set over it. Cost-based throttling is respected: the bucket
 * each answer reports is tracked, a call waits for enough to restore, and a THROTTLED answer is
 * waited out and sent again.
 */
export function shopifyAdapter(target: ShopifyTarget, token: string): ChannelAdapter {
  const { locationId } = target.settings;
  const endpoint = new URL(`/admin/api/${target.settings.apiVersion ?? SHOPIFY_API_VERSION}/graphql.json`, target.settings.shopUrl);
  let bucket: (ThrottleStatus & { at: number }) | undefined;

  async function waitForBucket(cost: number): Promise<void> {
    if (!bucket) return;
    const restored = Math.min(bucket.maximumAvailable, bucket.currentlyAvailable + ((Date.now() - bucket.at) / 1000) * bucket.restoreRate);
    if (restored >= cost) return;
    await sleep(Math.ceil(((cost - restored) / Math.max(bucket.restoreRate, 1)) * 1000));
  }

  async function call<T>(query: string, variables: Record<string, unknown>, cost: number): Promise<T> {
    for (let waits = 0; ; waits++) {
      await waitForBucket(cost);
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-shopify-access-token': token },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        throw new ShopifyProblem(networkProblem(error));
      }
      if (!response.ok) throw new ShopifyProblem(await httpProblem(response));
      const answer = (await response.json()) as GraphQlAnswer<T>;
      const status = answer.extensions?.cost?.throttleStatus;
      if (status) bucket = { ...status, at: Date.now() };
      const throttled = answer.errors?.some((e) => e.extensions?.code === 'THROTTLED');
      if (throttled && waits < MAX_THROTTLED_WAITS) {
        cost = Math.max(cost, answer.extensions?.cost?.requestedQueryCost ?? cost);
        continue;
      }
      if (answer.errors?.length) throw new ShopifyProblem(`GraphQL: ${answer.errors.map((e) => e.extensions?.code ?? e.message).join(', ')}`.slice(0, 300));
      if (!answer.data) throw new ShopifyProblem('GraphQL answer without data');
      return answer.data;
    }
  }

  async function readLevels(ids: readonly string[]): Promise<ReadBack> {
    const shown: ReadBack = new Map();
    for (let i = 0; i < ids.length; i += QUANTITIES_PER_CALL) {
      const chunk = ids.slice(i, i + QUANTITIES_PER_CALL);
      const data = await call<LevelsData>(LEVELS_QUERY, { ids: chunk, locationId }, 1 + 2 * chunk.length);
      for (const id of chunk) {
        const node = data.nodes.find((n) => n?.id === id);
        shown.set(id, node?.inventoryLevel?.quantities.find((q) => q.name === 'available')?.quantity);
      }
    }
    return shown;
  }

  async function setQuantities(publications: readonly Publication[], believed: readonly (number | null)[]): Promise<SetQuantitiesData['inventorySetQuantities']> {
    const quantities = publications.map((p, i) => ({ inventoryItemId: p.externalId, locationId, quantity: p.available, changeFromQuantity: believed[i] }));
    const digest = createHash('sha256')
      .update(JSON.stringify([quantities, publications.map((p) => p.version)]))
      .digest('hex')
      .slice(0, 32);
    const input = {
      name: 'available',
      reason: 'correction',
      referenceDocumentUri: `stockflow://channel/${target.id}/versions/${Math.max(...publications.map((p) => p.version))}`,
      quantities,
    };
    const data = await call<SetQuantitiesData>(setQuantitiesMutation(idempotencyKeys.channelPush(target.id, digest)), { input }, MUTATION_COST);
    return data.inventorySetQuantities;
  }

  async function pushChunk(chunk: readonly Publication[], outcome: PushOutcome): Promise<void> {
    let believed = chunk.map((p) => p.previous);
    let result = await setQuantities(chunk, believed);
    if (result?.userErrors.some((e) => e.code === 'CHANGE_FROM_QUANTITY_STALE')) {
      const shown = await readLevels(chunk.map((p) => p.externalId));
      const moved: MovedFigure[] = [];
      believed = chunk.map((p) => {
        const theirs = shown.get(p.externalId) ?? null;
        // Our own earlier push that landed unacknowledged (a timeout) explains a figure equal to ours.
        if (theirs !== null && theirs !== p.previous && theirs !== p.available) moved.push({ sku: p.sku, believed: p.previous, theirs, ours: p.available });
        return theirs;
      });
      outcome.moved.push(...moved);
      result = await setQuantities(chunk, believed);
    }
    const errors = result?.userErrors ?? [{ code: null, field: null, message: 'no inventorySetQuantities payload' }];
    if (errors.length === 0) {
      outcome.acknowledged.push(...chunk);
      return;
    }
    const message = errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message}`).join('; ').slice(0, 300);
    outcome.failed.push(...chunk.map((publication) => ({ publication, error: message })));
  }

  return {
    async push(publications) {
      const outcome: PushOutcome = { acknowledged: [], failed: [], moved: [] };
      for (let i = 0; i < publications.length; i += QUANTITIES_PER_CALL) {
        const chunk = publications.slice(i, i + QUANTITIES_PER_CALL);
        try {
          await pushChunk(chunk, outcome);
        } catch (error) {
          if (!(error instanceof ShopifyProblem)) throw error;
          outcome.failed.push(...chunk.map((publication) => ({ publication, error: error.message })));
        }
      }
      return outcome;
    },
    read: readLevels,
  };
}
