import type { ChannelTarget, Publication } from '../schemas/channels';

/** A SKU whose figure on the channel moved for a reason we do not know (Shopify's stale-quantity check). */
export interface MovedFigure {
  sku: string;
  /** What we believed the channel showed. */
  believed: number | null;
  /** What the channel showed when re-read. */
  theirs: number;
  /** The figure we then set. */
  ours: number;
}

export interface PushOutcome {
  /** Acknowledged by the channel: these figures are what it shows now. */
  acknowledged: Publication[];
  /** Not acknowledged (refused, unreachable): pushed again later. */
  failed: { publication: Publication; error: string }[];
  moved: MovedFigure[];
}

/** What a channel shows for SKUs, by their channel id; undefined when it cannot say. */
export type ReadBack = Map<string, number | undefined>;

/** One kind of channel: how figures are sent to it and read back from it. */
export interface ChannelAdapter {
  push(publications: readonly Publication[]): Promise<PushOutcome>;
  /** Undefined when the channel offers no way to read back (a webhook without a read URL). */
  read(externalIds: readonly string[]): Promise<ReadBack | undefined>;
}

export type AdapterFactory = (target: ChannelTarget, secret: string) => ChannelAdapter;

/** An HTTP failure as a short message: status and at most a little of the body, never the request's headers. */
export async function httpProblem(response: Response): Promise<string> {
  const body = (await response.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 200);
  return `HTTP ${response.status}${body ? `: ${body}` : ''}`;
}

/** A network failure as a short message (fetch's own names the cause, not the request). */
export function networkProblem(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message ?? String(error)}`;
}
