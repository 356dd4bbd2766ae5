import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { exceptionSubjects } from '../domain/keys';
import { CHANNEL_SYNC_EXCEPTION } from '../schemas/channels';

const { listChannels, checkChannelDrift, raiseException, pruneAvailabilityOutbox } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export interface ChannelDriftReport {
  channels: { channelId: string; checked: number; drifted: number; readable: boolean; error?: string }[];
  pruned: number;
}

/**
 * The scheduled read-back (Temporal Schedule `<task queue>/channel-drift`): what each channel
 * shows for every SKU not waiting for a push, against what it should show; each mismatch is a
 * delta exception for the channel's owner (joined while still open). A channel that cannot be
 * read is reported and the others still checked. Then the outbox rows every channel has
 * collected are deleted.
 */
export async function channelDrift(): Promise<ChannelDriftReport> {
  const report: ChannelDriftReport = { channels: [], pruned: 0 };
  for (const channelId of await listChannels()) {
    try {
      const { checked, drift, ownerId, readable } = await checkChannelDrift(channelId);
      for (const d of drift) {
        await raiseException({
          type: CHANNEL_SYNC_EXCEPTION,
          subject: exceptionSubjects.channelDrift(channelId, d.sku),
          severity: 'medium',
          sku: d.sku,
          ownerId,
          source: workflowInfo().workflowId,
          summary: `${d.sku} on channel ${channelId} shows ${d.shown ?? 'nothing'}, should show ${d.expected} (${d.shown === null ? 'missing' : `${d.shown - d.expected > 0 ? '+' : ''}${d.shown - d.expected}`})`,
          context: { channel: channelId, ...d },
        });
      }
      report.channels.push({ channelId, checked, drifted: drift.length, readable });
    } catch (error) {
      report.channels.push({ channelId, checked: 0, drifted: 0, readable: false, error: (error as Error).message });
    }
  }
  report.pruned = await pruneAvailabilityOutbox();
  return report;
}
