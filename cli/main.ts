import { Command } from 'commander';
import { registerCatalogueCommands } from './catalogue';
import { registerChannelCommands } from './channels';
import { registerCountCommands } from './counts';
import { demoCommand } from './demo';
import { registerExceptionCommands } from './exceptions';
import { registerFeedCommands } from './feeds';
import { kpisCommand } from './kpis';
import { registerOrderCommands } from './orders';
import { registerPolicyCommands, registerPurchaseOrderCommands } from './purchasing';
import { reconcileCommand } from './reconcile';
import { startCommand } from './start';
import { stockCommand } from './stock';
import { registerSuggestionCommands } from './suggestions';
import { registerSupplierCommands } from './suppliers';
import { registerUserCommands } from './users';
import { workerCommand } from './worker';

const program = new Command('stockflow')
  .description('Inventory operations as durable Temporal workflows over a PostgreSQL stock ledger')
  .showHelpAfterError();

program
  .command('start')
  .description('start Postgres, Temporal (with its Web UI), a worker and the HTTP API; Ctrl-C stops them')
  .action(startCommand);

program
  .command('stock')
  .description('show on hand, reserved, committed, incoming and available for a SKU')
  .argument('<sku>', 'the SKU to look up')
  .option('--api <url>', 'Stockflow API base URL (default from STOCKFLOW_API_HOST/PORT)')
  .option('--json', 'print the raw JSON')
  .action(stockCommand);

program
  .command('demo')
  .description('drive a short warehouse scenario through the running API so workflows appear in the Temporal UI')
  .option('--api <url>', 'Stockflow API base URL (default from STOCKFLOW_API_HOST/PORT)')
  .option('--watch <seconds>', 'how long to watch the demo exception escalate (0: do not wait)', '30')
  .action(demoCommand);

registerExceptionCommands(program);
registerOrderCommands(program);

program
  .command('reconcile')
  .description('run the daily reconciliation now (ledger, reservations, system-of-record snapshot) and print its report')
  .option('--api <url>', 'Stockflow API base URL (default from STOCKFLOW_API_HOST/PORT)')
  .option('--wait <seconds>', 'how long to wait for the report', '60')
  .option('--json', 'print the raw JSON')
  .action(reconcileCommand);

program
  .command('kpis')
  .description('print the operating KPIs: revenue at risk, update latency and failures, exception backlog, accuracy, shrinkage, stockouts')
  .option('--api <url>', 'Stockflow API base URL (default from STOCKFLOW_API_HOST/PORT)')
  .option('--window <duration>', 'how far back, e.g. 24h, 7d, 30d (at most 90d)', '30d')
  .option('--location <code>', 'only this location')
  .option('--owner <id>', 'only this owner')
  .option('--json', 'print the raw JSON')
  .action(kpisCommand);

registerFeedCommands(program);
registerCatalogueCommands(program);
registerSupplierCommands(program);
registerPolicyCommands(program);
registerSuggestionCommands(program);
registerPurchaseOrderCommands(program);
registerUserCommands(program);
registerChannelCommands(program);
registerCountCommands(program);

program
  .command('worker')
  .description('run one more worker process (scale out) against TEMPORAL_ADDRESS and DATABASE_URL')
  .action(workerCommand);

program.parseAsync().catch((error: unknown) => {
  console.error(`stockflow: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
