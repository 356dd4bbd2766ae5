import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../runtime/config';
import { LINE_OUTCOMES } from '../schemas/feeds';
import { ApiClient, apiClientOptions } from './api-client';

/** `stockflow feed import <file> --supplier <id>`: send a CSV or JSON feed file to the API. */
export function registerFeedCommands(program: Command): void {
  const feed = program.command('feed').description('supplier stock feeds');
  feed
    .command('import')
    .description('send a feed file (.csv with "sku,quantity,sequence" columns, or .json {feedId?, lines}) and follow it')
    .argument('<file>', 'the feed file')
    .requiredOption('--supplier <id>', 'the supplier the feed comes from')
    .option('--feed-id <id>', 'the feed id (CSV; default: a hash of the content)')
    .option('--no-follow', 'return once the feed is stored')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (file: string, options: { supplier: string; feedId?: string; follow: boolean; api?: string }) => {
      const api = new ApiClient(apiClientOptions(loadConfig(), options.api));
      const csv = path.extname(file).toLowerCase() === '.csv';
      const query = options.feedId ? `?feedId=${encodeURIComponent(options.feedId)}` : '';
      const response = await api.postRaw(`/v1/suppliers/${encodeURIComponent(options.supplier)}/feeds${query}`, readFileSync(file, 'utf8'), csv ? 'text/csv' : 'application/json');
      if (response.status !== 202) {
        console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
        process.exitCode = 1;
        return;
      }
      const { workflowId, feedId, lines } = response.body;
      console.log(`${response.body.new ? 'stored' : 'already received'} feed ${feedId} (${lines} lines): workflow ${workflowId}`);
      if (!options.follow) return;
      for (;;) {
        const status = await api.get(`/v1/suppliers/${encodeURIComponent(options.supplier)}/feeds/${encodeURIComponent(feedId)}`);
        const summary = status.body?.summary ?? status.body?.progress;
        if (status.body?.status === 'applied' || status.body?.status === 'discarded' || status.body?.status === 'quarantined') {
          console.log(`feed ${feedId}: ${status.body.status}${summary?.counts ? ` — ${formatCounts(summary.counts)}` : ''}`);
          if (summary?.exceptions?.length) console.log(`exceptions raised: ${summary.exceptions.join(', ')}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
}

/** "12 read, 10 applied, 2 held", in a fixed order (stored summaries come back with keys reordered). */
export function formatCounts(counts: Record<string, number>): string {
  return ['read', ...LINE_OUTCOMES]
    .filter((key) => (counts[key] ?? 0) > 0)
    .map((key) => `${counts[key]} ${key}`)
    .join(', ');
}
