import type { ChannelTarget } from '../schemas/channels';
import type { ChannelAdapter } from './adapter';
import { readSecret } from './secrets';
import { shopifyAdapter } from './shopify';
import { webhookAdapter } from './webhook';

/** The adapter of a channel's kind, with its secret read from where the channel says, for this one use. */
export async function adapterFor(target: ChannelTarget): Promise<ChannelAdapter> {
  const secret = await readSecret(target.secretRef);
  switch (target.kind) {
    case 'webhook':
      return webhookAdapter(target as Parameters<typeof webhookAdapter>[0], secret);
    case 'shopify':
      return shopifyAdapter(target as Parameters<typeof shopifyAdapter>[0], secret);
  }
}

export type { ChannelAdapter, MovedFigure, PushOutcome } from './adapter';
