import { defineQuery } from '@temporalio/workflow';

/** Where a channel's sync loop stands, as its `status` query answers. */
export interface ChannelSyncState {
  channelId: string;
  phase: 'waiting' | 'syncing' | 'backing_off';
  /** Sync rounds over every run of the workflow (it continues as new). */
  rounds: number;
  /** Figures sent, and of those acknowledged by the channel. */
  pushed: number;
  acknowledged: number;
  consecutiveFailures: number;
  /** Pending SKUs after the last round. */
  pendingSkus: number;
  lastPushAt?: string;
  lastError?: string;
  lastErrorAt?: string;
  /** The staleness exception of the current outage was raised: one per outage, not one per round. */
  staleRaised: boolean;
  /** A round is due without waiting for new changes (more pending, or a retry after backoff). */
  syncDue: boolean;
  exceptionsRaised: number;
}

export const channelStatusQuery = defineQuery<ChannelSyncState>('status');
