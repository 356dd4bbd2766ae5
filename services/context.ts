import type { Client } from '@temporalio/client';
import type { Db } from '../db/connection';
import type { CountingRules } from '../schemas/counting';
import type { FeedRules } from '../schemas/feeds';
import type { AllocationRules, OrderWindows } from '../schemas/orders';
import type { PurchasingRules } from '../schemas/purchase-orders';

/** What every service function works with: the database, Temporal, and the rules given to new workflows. */
export interface Services {
  db: Db;
  /** The database over connections kept for checkout batches (db/connection.ts). */
  checkoutDb: Db;
  client: Client;
  taskQueue: string;
  orderWindows: OrderWindows;
  /** How orders that name no location are allocated. */
  allocation: AllocationRules;
  /** How long a cart's hold lasts when the request does not say. */
  cartTtlSeconds: number;
  /** Grace before an order is late, and the over-receipt tolerance. */
  purchasing: PurchasingRules;
  feedRules: FeedRules;
  /** Records per chunk of a catalogue import. */
  importChunkSize: number;
  /** ABC shares and window, count frequencies. */
  counting: CountingRules;
}
