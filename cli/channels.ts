import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../runtime/config';
import type { ChannelStatus } from '../schemas/channels';
import { ApiClient, apiClientOptions, type ApiResponse } from './api-client';

/** `stockflow channels list|show|add|resync`: the sales channels availability is published to. */
export function registerChannelCommands(program: Command): void {
  const channels = program.command('channels').description('sales channels that availability is published to');
  const api = (url?: string) => new ApiClient(apiClientOptions(loadConfig(), url));

  channels
    .command('list')
    .description('every channel with its lag and pending SKUs')
    .option('--api <url>', 'Stockflow API base URL')
    .option('--json', 'print the raw JSON')
    .action(async (options: { api?: string; json?: boolean }) => {
      const response = await api(options.api).get('/v1/channels');
      if (!ok(response, 200)) return;
      if (options.json) return console.log(JSON.stringify(response.body, null, 2));
      const rows = (response.body.channels as ChannelStatus[]).map((c) => [c.id, c.kind, c.owner, String(c.mappedSkus), String(c.pendingSkus), lag(c), c.lastPushAt ?? '-', c.lastError ?? '']);
      printTable(['channel', 'kind', 'owner', 'skus', 'pending', 'lag', 'last push', 'last error'], rows);
    });

  channels
    .command('show')
    .description("one channel's configuration and sync status (the secret's reference, never the secret)")
    .argument('<id>', 'the channel id')
    .option('--api <url>', 'Stockflow API base URL')
    .option('--json', 'print the raw JSON')
    .action(async (id: string, options: { api?: string; json?: boolean }) => {
      const response = await api(options.api).get(`/v1/channels/${encodeURIComponent(id)}`);
      if (!ok(response, 200)) return;
      if (options.json) return console.log(JSON.stringify(response.body, null, 2));
      printStatus(response.body as ChannelStatus);
    });

  channels
    .command('add')
    .description('register a channel, or replace its configuration, from a JSON file (the body of POST /v1/channels)')
    .argument('<file>', 'the channel file')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (file: string, options: { api?: string }) => {
      const response = await api(options.api).send('POST', '/v1/channels', JSON.parse(readFileSync(file, 'utf8')));
      if (!ok(response, 201)) return;
      console.log(`registered channel ${response.body.id}: ${response.body.mappedSkus} SKU(s) being published`);
    });

  channels
    .command('resync')
    .description('publish every mapped SKU of a channel again')
    .argument('<id>', 'the channel id')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (id: string, options: { api?: string }) => {
      const response = await api(options.api).send('POST', `/v1/channels/${encodeURIComponent(id)}/resync`, {});
      if (!ok(response, 200)) return;
      console.log(`channel ${id}: ${response.body.pendingSkus} SKU(s) pending publication`);
    });
}

function ok(response: ApiResponse, status: number): boolean {
  if (response.status === status) return true;
  console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
  process.exitCode = 1;
  return false;
}

function lag(c: ChannelStatus): string {
  return c.lagSeconds === null ? '-' : `${c.lagSeconds.toFixed(1)}s`;
}

function printStatus(c: ChannelStatus): void {
  console.log(`${c.id} (${c.kind}) — ${c.name}, owner ${c.owner}`);
  console.log(`locations ${c.locations.join(', ')}; ${c.mappedSkus} SKU(s) mapped; stale after ${c.staleAfterSeconds}s; secret from ${c.secretRef}`);
  console.log(`buffer ${JSON.stringify(c.buffer)}`);
  console.log(`pending ${c.pendingSkus} SKU(s), lag ${lag(c)}, last push ${c.lastPushAt ?? 'never'}`);
  if (c.lastError) console.log(`last error at ${c.lastErrorAt}: ${c.lastError}`);
  if (c.pending.length > 0) printTable(['sku', 'since', 'attempts', 'error'], c.pending.map((p) => [p.sku, p.since, String(p.attempts), p.lastError ?? '']));
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  console.log([line(header), ...rows.map(line)].join('\n'));
}
