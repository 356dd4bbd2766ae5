import type { IncomingMessage } from 'node:http';
import { serveOnLoopback, type Answer } from './loopback';

/**
 * A local stand-in for Shopify's GraphQL Admin API, 2026-04, enforcing the contract the adapter
 * is written against (there is no internet here):
 * - `X-Shopify-Access-Token` must be the shop's token (401 otherwise);
 * - `inventorySetQuantities` must carry `@idempotent(key: "…")`; a key seen before answers its
 *   first answer and applies nothing again;
 * - every quantity must have a `changeFromQuantity` field (null opts out of the check); one that
 *   differs from the level answers a CHANGE_FROM_QUANTITY_STALE user error and applies nothing;
 * - input `name` must be "available", `reason` and `referenceDocumentUri` present;
 * - cost-based throttling: a leaky bucket (`maximumAvailable`, `restoreRate` per second); a
 *   request costing more than is available answers a THROTTLED error; every answer reports
 *   `extensions.cost` with the bucket.
 * Reading: `nodes(ids:)` of inventory items with `inventoryLevel(locationId:)` quantities.
 */
export class ShopifyContractServer {
  /** `<inventoryItemId>@<locationId>` → available. */
  readonly levels = new Map<string, number>();
  readonly calls = { mutations: 0, applied: 0, stale: 0, throttled: 0, reads: 0, replayed: 0, refused: 0 };
  readonly refusals: string[] = [];
  private readonly idempotent = new Map<string, string>();
  private bucket: number;
  private bucketAt = Date.now();

  constructor(
    private readonly token: string,
    readonly options: { maximumAvailable: number; restoreRate: number } = { maximumAvailable: 1000, restoreRate: 50 },
  ) {
    this.bucket = options.maximumAvailable;
  }

  async start(): Promise<string> {
    const server = await serveOnLoopback((req, raw) => this.handle(req, raw));
    this.stop = server.stop;
    return server.url;
  }

  stop: () => Promise<void> = async () => undefined;

  level(inventoryItemId: string, locationId: string): number | undefined {
    return this.levels.get(`${inventoryItemId}@${locationId}`);
  }

  /** Empties the bucket, as a burst of other apps' calls would. */
  drainBucket(): void {
    this.restore();
    this.bucket = 0;
  }

  private restore(): void {
    const now = Date.now();
    this.bucket = Math.min(this.options.maximumAvailable, this.bucket + ((now - this.bucketAt) / 1000) * this.options.restoreRate);
    this.bucketAt = now;
  }

  private cost(requested: number, actual: number | null) {
    return {
      cost: {
        requestedQueryCost: requested,
        actualQueryCost: actual,
        throttleStatus: { maximumAvailable: this.options.maximumAvailable, currentlyAvailable: Math.floor(this.bucket), restoreRate: this.options.restoreRate },
      },
    };
  }

  private refuse(status: number, message: string) {
    this.calls.refused++;
    this.refusals.push(message);
    return { status, body: { errors: [{ message }] } };
  }

  private handle(req: IncomingMessage, raw: string): Answer {
    if (req.method !== 'POST' || !/^\/admin\/api\/2026-04\/graphql\.json$/.test(new URL(req.url ?? '/', 'http://shop').pathname)) return this.refuse(404, 'Not Found');
    if (req.headers['x-shopify-access-token'] !== this.token) return this.refuse(401, '[API] Invalid API key or access token (unrecognized login or wrong password)');
    let request: { query?: string; variables?: Record<string, any> };
    try {
      request = JSON.parse(raw);
    } catch {
      return this.refuse(400, 'body is not JSON');
    }
    const query = request.query ?? '';
    const mutation = /\binventorySetQuantities\s*\(/.test(query);
    const requested = mutation ? 10 : 1 + 2 * ((request.variables?.ids as unknown[] | undefined)?.length ?? 0);
    this.restore();
    if (requested > this.bucket) {
      this.calls.throttled++;
      return { status: 200, body: { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }], extensions: this.cost(requested, null) } };
    }
    this.bucket -= requested;
    const answer = mutation ? this.setQuantities(query, request.variables ?? {}) : this.read(query, request.variables ?? {});
    if ('status' in answer) return answer;
    return { status: 200, body: { ...answer, extensions: this.cost(requested, requested) } };
  }

  private setQuantities(query: string, variables: Record<string, any>): { data: unknown } | Answer {
    this.calls.mutations++;
    const key = /@idempotent\s*\(\s*key\s*:\s*"([^"]+)"\s*\)/.exec(query)?.[1];
    if (!key) return this.refuse(200, 'The @idempotent directive is required for this mutation as of 2026-04');
    const input = variables.input;
    if (!input || input.name !== 'available' || !input.reason || !input.referenceDocumentUri || !Array.isArray(input.quantities)) {
      return this.refuse(200, 'Variable $input of type InventorySetQuantitiesInput! was provided invalid value');
    }
    const fingerprint = JSON.stringify(input);
    const first = this.idempotent.get(key);
    if (first !== undefined) {
      this.calls.replayed++;
      if (first !== fingerprint) return this.refuse(200, 'idempotency key reused with a different request');
      return { data: { inventorySetQuantities: { userErrors: [] } } };
    }
    const missing = input.quantities.findIndex((q: Record<string, unknown>) => !('changeFromQuantity' in q));
    if (missing >= 0) return this.refuse(200, `input.quantities.${missing}.changeFromQuantity is required as of 2026-04`);
    const stale = input.quantities
      .map((q: { inventoryItemId: string; locationId: string; changeFromQuantity: number | null }, i: number) => ({ q, i }))
      .filter(({ q }: { q: { inventoryItemId: string; locationId: string; changeFromQuantity: number | null } }) => q.changeFromQuantity !== null && q.changeFromQuantity !== (this.level(q.inventoryItemId, q.locationId) ?? 0));
    if (stale.length > 0) {
      this.calls.stale++;
      return {
        data: {
          inventorySetQuantities: {
            userErrors: stale.map(({ i }: { i: number }) => ({
              code: 'CHANGE_FROM_QUANTITY_STALE',
              field: ['input', 'quantities', String(i), 'changeFromQuantity'],
              message: 'The specified compare quantity does not match the current quantity.',
            })),
          },
        },
      };
    }
    for (const q of input.quantities as { inventoryItemId: string; locationId: string; quantity: number }[]) this.levels.set(`${q.inventoryItemId}@${q.locationId}`, q.quantity);
    this.idempotent.set(key, fingerprint);
    this.calls.applied++;
    return { data: { inventorySetQuantities: { userErrors: [] } } };
  }

  private read(query: string, variables: Record<string, any>): { data: unknown } | Answer {
    if (!/\bnodes\s*\(/.test(query) || !/inventoryLevel\s*\(/.test(query)) return this.refuse(200, 'unsupported query');
    this.calls.reads++;
    const ids = (variables.ids ?? []) as string[];
    return {
      data: {
        nodes: ids.map((id) => {
          const level = this.level(id, variables.locationId);
          return { id, inventoryLevel: level === undefined ? null : { quantities: [{ name: 'available', quantity: level }] } };
        }),
      },
    };
  }
}
