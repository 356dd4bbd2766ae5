import type { IncomingMessage } from 'node:http';
import { signatureProblem } from '../../api/auth';
import type { WebhookFigure } from '../../channels/webhook';
import { serveOnLoopback, type Answer } from './loopback';

export interface ReceivedFigure extends WebhookFigure {
  at: number;
}

/**
 * A webhook channel's receiver on loopback, enforcing the contract: a POST of `{channel, sku,
 * available, version, changedAt}` with a valid HMAC-SHA256 signature, answered 204; the highest
 * version per SKU wins, and a lower one arriving after a higher one is counted as out of order.
 * `down` answers 503 to everything; a GET of `/read?sku=` answers what it shows.
 */
export class WebhookReceiver {
  readonly received: ReceivedFigure[] = [];
  readonly latest = new Map<string, ReceivedFigure>();
  outOfOrder = 0;
  rejected = 0;
  down = false;
  /** What `/read` answers, when a test wants the channel to show something else. */
  readonly shownOverride = new Map<string, number>();
  /** Called for each accepted figure (the bench times acknowledgements with it). */
  onFigure?: (figure: ReceivedFigure) => void;

  constructor(private readonly secret: string) {}

  async start(): Promise<string> {
    const server = await serveOnLoopback((req, raw) => this.handle(req, raw));
    this.stop = server.stop;
    return server.url;
  }

  stop: () => Promise<void> = async () => undefined;

  private handle(req: IncomingMessage, raw: string): Answer {
    if (this.down) return { status: 503, body: { error: 'down for maintenance' } };
    const problem = signatureProblem(this.secret, req.headers, raw);
    if (problem) {
      this.rejected++;
      return { status: 401, body: { error: problem } };
    }
    const url = new URL(req.url ?? '/', 'http://receiver');
    if (req.method === 'GET' && url.pathname === '/read') {
      const sku = url.searchParams.get('sku') ?? '';
      const shown = this.shownOverride.get(sku) ?? this.latest.get(sku)?.available;
      return shown === undefined ? { status: 404 } : { status: 200, body: { available: shown } };
    }
    if (req.method !== 'POST') return { status: 405 };
    const figure = JSON.parse(raw) as WebhookFigure;
    const valid = typeof figure.sku === 'string' && Number.isInteger(figure.available) && Number.isInteger(figure.version) && typeof figure.changedAt === 'string' && typeof figure.channel === 'string';
    if (!valid) {
      this.rejected++;
      return { status: 400, body: { error: 'not a figure' } };
    }
    const received = { ...figure, at: Date.now() };
    this.received.push(received);
    const before = this.latest.get(figure.sku);
    if (before && before.version > figure.version) this.outOfOrder++;
    else this.latest.set(figure.sku, received);
    this.onFigure?.(received);
    return { status: 204 };
  }
}
