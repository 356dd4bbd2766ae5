import type { Command } from 'commander';
import { loadConfig } from '../runtime/config';
import { ApiClient, apiClientOptions } from './api-client';

interface Transition {
  at: string;
  from: string | null;
  to: string;
  actor: string;
  ownerId: string;
  reason: string | null;
}

/** `stockflow orders show <orderId>`: the canonical record and its trail, from the terminal. */
export function registerOrderCommands(program: Command): void {
  const orders = program.command('orders').description('look up orders');
  orders
    .command('show')
    .description('one order: state, owner, reservations and every transition')
    .argument('<orderId>', 'the order id as the channel sent it')
    .option('--channel <channel>', 'the channel, when several use the same order id')
    .option('--api <url>', 'Stockflow API base URL')
    .option('--json', 'print the raw JSON')
    .action(async (orderId: string, options: { channel?: string; api?: string; json?: boolean }) => {
      const api = new ApiClient(apiClientOptions(loadConfig(), options.api));
      const query = options.channel ? `?channel=${encodeURIComponent(options.channel)}` : '';
      const response = await api.get(`/v1/orders/${encodeURIComponent(orderId)}${query}`);
      if (response.status !== 200) {
        console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
        process.exitCode = 1;
        return;
      }
      const order = response.body;
      if (options.json) return console.log(JSON.stringify(order, null, 2));
      console.log(`${order.workflowId}: ${order.state}, owned by ${order.stateOwnerId}${order.outcomeReason ? ` — ${order.outcomeReason}` : ''}`);
      for (const r of order.reservations) console.log(`  holds ${r.quantity} × ${r.sku} at ${r.location} (${r.status})`);
      for (const t of order.transitions as Transition[]) {
        console.log(`${t.at.slice(0, 23)}  ${(t.from ?? '—').padEnd(20)} → ${t.to.padEnd(20)} by ${t.actor.padEnd(18)} owner ${t.ownerId}${t.reason ? `: ${t.reason}` : ''}`);
      }
    });
}
