import type { Command } from 'commander';
import { loadConfig } from '../runtime/config';
import { ApiClient, apiClientOptions } from './api-client';
import { listCommand, showCommand } from './catalogue';

/** `stockflow suppliers list|show|archive|restore`: the suppliers; retire one (its history stays) or bring it back. */
export function registerSupplierCommands(program: Command): void {
  const suppliers = program.command('suppliers').description('suppliers that send stock feeds');
  listCommand(suppliers, 'suppliers');
  showCommand(suppliers, 'suppliers', '<id>', 'supplier: terms and the variants it supplies');
  for (const action of ['archive', 'restore'] as const) {
    suppliers
      .command(action)
      .description(action === 'archive' ? 'archive a supplier: its feeds and history stay, new feeds are refused' : 'restore an archived supplier')
      .argument('<id>', 'the supplier id')
      .option('--by <owner>', 'who asks; default and only choice: the principal your STOCKFLOW_API_TOKEN identifies')
      .requiredOption('--reason <text>', 'why, for the audit trail')
      .option('--api <url>', 'Stockflow API base URL')
      .action(async (id: string, options: { by?: string; reason: string; api?: string }) => {
        const api = new ApiClient(apiClientOptions(loadConfig(), options.api));
        const response = await api.post(`/v1/suppliers/${encodeURIComponent(id)}/${action}`, { by: options.by, reason: options.reason }, 'operator');
        if (response.status !== 200) {
          console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
          process.exitCode = 1;
          return;
        }
        const { changed, archivedAt } = response.body;
        console.log(changed ? `${id} ${action}d` : `${id} was already ${archivedAt ? 'archived' : 'active'}: nothing changed`);
      });
  }
}
