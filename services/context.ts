import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import type { FeedRules } from '../schemas/feeds';
import type { OrderWindows } from '../schemas/orders';

/** What every service function works with: the database, Temporal, and the rules given to new workflows. */
export interface Services {
  db: Db;
  client: Client;
  taskQueue: string;
  orderWindows: OrderWindows;
  feedRules: FeedRules;
  /** Records per chunk of a catalogue import. */
  importChunkSize: number;
}
