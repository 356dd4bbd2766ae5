import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ChannelSyncOutcome } from '../activities/channels';
import { describeStaleness, retryDelayMs } from '../domain/channel-figure';
import { exceptionSubjects } from '../domain/keys';
import { CHANNEL_SYNC_EXCEPTION } from '../schemas/channels';
import { channelStatusQuery, type ChannelSyncState } from './channel-messages';
import { ChannelId, StockflowFlow } from './search-attributes';

/** How long one wait for changes lasts before the loop looks at its history size again. */
const WAIT_MS = 60_000;
/** Rounds per run before continuing as new, well below Temporal's history limits. */
const ROUNDS_PER_RUN = 500;

const { waitForChannelWork } = proxyActivities<Activities>({
  startToCloseTimeout: `${WAIT_MS / 1000 + 30} seconds`,
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const { syncChannel } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const { raiseException } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export interface ChannelSyncInput {
  channelId: string;
  /** Carried across continue-as-new. */
  state?: ChannelSyncState;
}

/**
 * The durable sync loop of one sales channel: wait for committed availability changes (the
 * outbox), publish the newest figure of each changed SKU, and keep at it while the channel is
 * down, backing off, telling the channel's owner once when figures go stale. Recovery sends the
 * latest figures only: pending SKUs hold no history, just "publish this SKU now".
 */
export async function channelSync(input: ChannelSyncInput): Promise<void> {
  const loop = new ChannelSyncLoop(
    input.state ?? {
      channelId: input.channelId,
      phase: 'waiting',
      rounds: 0,
      pushed: 0,
      acknowledged: 0,
      consecutiveFailures: 0,
      pendingSkus: 0,
      staleRaised: false,
      syncDue: true,
      exceptionsRaised: 0,
    },
  );
  setHandler(channelStatusQuery, () => loop.state);
  upsertSearchAttributes([
    { key: StockflowFlow, value: 'channelSync' },
    { key: ChannelId, value: input.channelId },
  ]);
  await loop.run();
  await condition(allHandlersFinished);
  await continueAsNew<typeof channelSync>({ channelId: input.channelId, state: loop.state });
}

class ChannelSyncLoop {
  constructor(readonly state: ChannelSyncState) {}

  /** Rounds until this run's history is long enough to continue as new. */
  async run(): Promise<void> {
    for (let round = 0; round < ROUNDS_PER_RUN && !workflowInfo().continueAsNewSuggested; round++) {
      if (!this.state.syncDue) {
        this.state.phase = 'waiting';
        if (!(await waitForChannelWork(this.state.channelId, WAIT_MS))) continue;
      }
      this.state.phase = 'syncing';
      const outcome = await syncChannel(this.state.channelId);
      this.state.rounds++;
      await this.settle(outcome);
      if (outcome.failed > 0) {
        this.state.phase = 'backing_off';
        await sleep(retryDelayMs(this.state.consecutiveFailures));
      }
    }
  }

  private async settle(outcome: ChannelSyncOutcome): Promise<void> {
    const s = this.state;
    const now = new Date().toISOString();
    s.pushed += outcome.pushed;
    s.acknowledged += outcome.acknowledged;
    s.pendingSkus = outcome.remaining;
    if (outcome.acknowledged > 0) s.lastPushAt = now;
    if (outcome.failed > 0) {
      s.consecutiveFailures++;
      s.lastError = outcome.error;
      s.lastErrorAt = now;
    } else {
      s.consecutiveFailures = 0;
    }
    s.syncDue = outcome.failed > 0 || outcome.remaining > 0;
    for (const moved of outcome.moved) {
      await this.raise({
        subject: exceptionSubjects.channelMoved(s.channelId, moved.sku),
        severity: 'medium',
        sku: moved.sku,
        summary: `${moved.sku} on channel ${s.channelId} showed ${moved.theirs}, not the ${moved.believed ?? 'unknown'} we had set: it moved there for a reason we do not know; set to ${moved.ours}`,
        ownerId: outcome.ownerId,
        context: { channel: s.channelId, ...moved },
      });
    }
    if (outcome.stale.length > 0 && !s.staleRaised) {
      s.staleRaised = true;
      await this.raise({
        subject: exceptionSubjects.channelStale(s.channelId),
        severity: 'high',
        summary: describeStaleness(s.channelId, outcome.stale),
        ownerId: outcome.ownerId,
        context: { channel: s.channelId, lastError: outcome.error ?? null, stale: outcome.stale },
      });
    }
    if (!s.syncDue) s.staleRaised = false;
  }

  private async raise(exception: { subject: string; severity: 'medium' | 'high'; summary: string; ownerId: string; sku?: string; context: Record<string, unknown> }): Promise<void> {
    await raiseException({ type: CHANNEL_SYNC_EXCEPTION, source: workflowInfo().workflowId, ...exception });
    this.state.exceptionsRaised++;
  }
}
