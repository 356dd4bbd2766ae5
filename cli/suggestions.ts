import type { Command } from 'commander';
import { loadConfig } from '../runtime/config';
import { ApiClient, apiClientOptions, type ApiResponse } from './api-client';

interface Line {
  lineNo: number;
  sku: string;
  location: string;
  quantity: number;
  reason: string;
}
interface Suggestion {
  id: number;
  supplierId: string;
  status: string;
  value: number;
  currency: string | null;
  purchaseOrder: string | null;
  lines: Line[];
}

function report(response: ApiResponse, print: (body: never) => void): void {
  if (response.status !== 200) {
    console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
    process.exitCode = 1;
    return;
  }
  print(response.body as never);
}

const describe = (s: Suggestion) =>
  [
    `#${s.id} ${s.supplierId} ${s.status} ${s.value.toFixed(2)}${s.currency ? ` ${s.currency}` : ''}`,
    ...s.lines.map((l) => `  ${l.lineNo}. ${l.sku}@${l.location} × ${l.quantity}: ${l.reason}`),
    ...(s.purchaseOrder ? [`  purchase order ${s.purchaseOrder}`] : []),
  ].join('\n');

/** `lineNo=quantity`, as the buyer types an edit. */
function edit(text: string, edits: { lineNo: number; quantity: number }[] = []) {
  const match = /^(\d+)=(\d+)$/.exec(text);
  if (!match) throw new Error(`--quantity ${text}: must be <line>=<quantity>, e.g. 1=36`);
  return [...edits, { lineNo: Number(match[1]), quantity: Number(match[2]) }];
}

/** `stockflow suggestions list|approve|reject`: purchase suggestions held for the buyer. */
export function registerSuggestionCommands(program: Command): void {
  const suggestions = program.command('suggestions').description('purchase suggestions from replenishment, one per supplier per run');
  suggestions
    .command('list')
    .description('suggestions with their lines and reasons')
    .option('--status <status>', 'open, approved or rejected')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (options: { status?: string; api?: string }) => {
      const api = new ApiClient(apiClientOptions(loadConfig(), options.api));
      const query = options.status ? `?status=${encodeURIComponent(options.status)}` : '';
      report(await api.get(`/v1/purchase-suggestions${query}`), (body: Suggestion[]) => console.log(body.map(describe).join('\n') || 'no suggestions'));
    });
  for (const action of ['approve', 'reject'] as const) {
    const command = suggestions
      .command(action)
      .description(action === 'approve' ? 'approve a suggestion, optionally changing line quantities' : 'reject a suggestion')
      .argument('<id>', 'the suggestion id')
      .option('--reason <text>', 'why, for the exception history')
      .option('--api <url>', 'Stockflow API base URL');
    if (action === 'approve') command.option('--quantity <line=quantity>', 'a changed quantity, repeatable', edit);
    command.action(async (id: string, options: { reason?: string; quantity?: { lineNo: number; quantity: number }[]; api?: string }) => {
      const api = new ApiClient(apiClientOptions(loadConfig(), options.api));
      const body = { reason: options.reason, ...(options.quantity ? { quantities: options.quantity } : {}) };
      report(await api.post(`/v1/purchase-suggestions/${encodeURIComponent(id)}/${action}`, body, 'operator'), (s: Suggestion) => console.log(describe(s)));
    });
  }
}
