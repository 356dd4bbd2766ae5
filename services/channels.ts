import type { Client } from '@temporalio/client';
import { getChannelStatus, listChannelIds, registerChannel as saveChannel, resyncChannel as markForResync } from '../db/channels';
import type { Db } from '../db/connection';
import { workflowIds } from '../domain/keys';
import { Refusal } from '../domain/refusal';
import type { ChannelRegistration, ChannelStatus } from '../schemas/channels';
import { channelStatusQuery, type ChannelSyncState } from '../workflows/channel-messages';
import type { channelSync } from '../workflows/channel-sync';
import { ChannelId, StockflowFlow } from '../workflows/search-attributes';
import type { Services } from './context';

/**
 * Starts the channel's sync loop unless it runs: its workflow id is the channel's, so a second
 * start joins the first.
 */
export async function ensureChannelSync(client: Client, taskQueue: string, channelId: string): Promise<string> {
  const handle = await client.workflow.start<typeof channelSync>('channelSync', {
    taskQueue,
    workflowId: workflowIds.channelSync(channelId),
    args: [{ channelId }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: StockflowFlow, value: 'channelSync' },
      { key: ChannelId, value: channelId },
    ],
    staticSummary: `Availability sync of channel ${channelId}`,
  });
  return handle.workflowId;
}

/** Starts the sync loop of every registered channel that has none running (at start-up). */
export async function ensureChannelSyncs(client: Client, taskQueue: string, db: Db): Promise<string[]> {
  const ids = await listChannelIds(db);
  return Promise.all(ids.map((id) => ensureChannelSync(client, taskQueue, id)));
}

/** Registers (or replaces) a channel and makes sure its sync loop runs; every mapped SKU is then published. */
export async function registerChannel(s: Services, registration: ChannelRegistration): Promise<ChannelStatus> {
  await saveChannel(s.db, registration);
  await ensureChannelSync(s.client, s.taskQueue, registration.id);
  return channelStatus(s, registration.id);
}

export async function channelStatus(s: Services, channelId: string): Promise<ChannelStatus> {
  const status = await getChannelStatus(s.db, channelId);
  if (!status) throw new Refusal('not_found', `no channel "${channelId}"`, 'id');
  return status;
}

/** Every channel's status, by id. */
export async function listChannels(s: Services): Promise<ChannelStatus[]> {
  const ids = await listChannelIds(s.db);
  return Promise.all(ids.map((id) => channelStatus(s, id)));
}

/** Publishes every mapped SKU of the channel again, with a version newer than any it was sent. */
export async function resyncChannel(s: Services, channelId: string): Promise<ChannelStatus> {
  await markForResync(s.db, channelId);
  await ensureChannelSync(s.client, s.taskQueue, channelId);
  return channelStatus(s, channelId);
}

/** The sync loop's own view (the workflow's `status` query). */
export function channelSyncState(client: Client, channelId: string): Promise<ChannelSyncState> {
  return client.workflow.getHandle<typeof channelSync>(workflowIds.channelSync(channelId)).query(channelStatusQuery);
}
