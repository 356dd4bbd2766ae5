import { signedHeaders } from '../api/auth';
import type { ChannelTarget, Publication } from '../schemas/channels';
import { httpProblem, networkProblem, type ChannelAdapter, type PushOutcome } from './adapter';

/** Requests in flight to one webhook receiver at once. */
const CONCURRENCY = 16;
const TIMEOUT_MS = 10_000;

/** The body a webhook channel receives for one SKU. */
export interface WebhookFigure {
  channel: string;
  sku: string;
  available: number;
  version: number;
  changedAt: string;
}

/**
 * A webhook channel: one signed POST per SKU of `{channel, sku, available, version, changedAt}`
 * (HMAC-SHA256 in the format of api/auth.ts: `x-stockflow-signature: sha256=<hex of
 * "<timestamp>.<body>">`), acknowledged by any 2xx. The receiver keeps the highest version per SKU.
 */
export function webhookAdapter(target: ChannelTarget & { settings: { url: string; readUrl?: string } }, secret: string): ChannelAdapter {
  const { url, readUrl } = target.settings;
  return {
    async push(publications) {
      const outcome: PushOutcome = { acknowledged: [], failed: [], moved: [] };
      let next = 0;
      const sendOne = async (publication: Publication) => {
        const figure: WebhookFigure = { channel: target.id, sku: publication.externalId, available: publication.available, version: publication.version, changedAt: publication.changedAt };
        const body = JSON.stringify(figure);
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...signedHeaders(secret, body) },
            body,
            signal: AbortSignal.timeout(TIMEOUT_MS),
          });
          if (response.ok) {
            await response.body?.cancel();
            outcome.acknowledged.push(publication);
          } else {
            outcome.failed.push({ publication, error: await httpProblem(response) });
          }
        } catch (error) {
          outcome.failed.push({ publication, error: networkProblem(error) });
        }
      };
      const lane = async () => {
        while (next < publications.length) await sendOne(publications[next++]);
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, publications.length) }, lane));
      return outcome;
    },

    async read(externalIds) {
      if (!readUrl) return undefined;
      const shown = new Map<string, number | undefined>();
      for (const id of externalIds) {
        const address = new URL(readUrl);
        address.searchParams.set('sku', id);
        const response = await fetch(address, { headers: signedHeaders(secret, ''), signal: AbortSignal.timeout(TIMEOUT_MS) });
        if (response.status === 404) {
          shown.set(id, undefined);
          continue;
        }
        if (!response.ok) throw new Error(`reading ${target.id} back failed: ${await httpProblem(response)}`);
        const { available } = (await response.json()) as { available?: unknown };
        shown.set(id, typeof available === 'number' ? available : undefined);
      }
      return shown;
    },
  };
}
