import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { loadConfig } from '../runtime/config';
import { ApiClient, apiClientOptions, type ApiResponse } from './api-client';

const apiOption = (command: Command) => command.option('--api <url>', 'Stockflow API base URL (default from STOCKFLOW_API_HOST/PORT)');
const client = (api?: string) => new ApiClient(apiClientOptions(loadConfig(), api));

/** Prints the error of a response that is not the status expected; true when it was. */
function ok(response: ApiResponse, status = 200): boolean {
  if (response.status === status) return true;
  console.error(`error ${response.status}: ${response.body?.message ?? 'unexpected response'}`);
  process.exitCode = 1;
  return false;
}

/** `[██████······] 12/40 chunks` for a terminal, one line rewritten in place. */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${done}/${total} chunks`;
}

/** `stockflow catalogue import <file>`: send a catalogue file and follow it, with a progress bar, to its report. */
export function registerCatalogueCommands(program: Command): void {
  const catalogue = program.command('catalogue').description('bring your catalogue: items, variants, locations, suppliers and opening stock');
  apiOption(
    catalogue
      .command('import')
      .description('import a file: stockflow (.json or .csv), a Shopify product export or a Shopify inventory export (.csv)')
      .argument('<file>', 'the file to import')
      .option('--format <format>', 'stockflow | shopify-products | shopify-inventory', 'stockflow')
      .option('--skip-invalid', 'apply the good rows and report the bad ones (default: any bad row refuses the whole file)')
      .option('--import-id <id>', 'the import id (default: a hash of the file and options); sending it again starts nothing')
      .option('--currency <code>', 'the currency of prices and costs in a Shopify export', 'USD')
      .option('--json', 'print the final report as JSON'),
  ).action(async (file: string, options: { format: string; skipInvalid?: boolean; importId?: string; currency: string; json?: boolean; api?: string }) => {
    const api = client(options.api);
    const query = new URLSearchParams({ format: options.format, skipInvalid: String(Boolean(options.skipInvalid)), currency: options.currency });
    if (options.importId) query.set('importId', options.importId);
    const json = path.extname(file).toLowerCase() === '.json';
    const response = await api.postRaw(`/v1/catalogue/imports?${query}`, readFileSync(file, 'utf8'), json ? 'application/json' : 'text/csv');
    if (!ok(response, 202)) return;
    const { importId, rows } = response.body;
    console.log(`${response.body.new ? 'importing' : 'already received'} ${importId} (${rows} rows)`);
    const interactive = process.stdout.isTTY;
    for (;;) {
      const status = await api.get(`/v1/catalogue/imports/${encodeURIComponent(importId)}`);
      if (!ok(status)) return;
      const { progress, status: state } = status.body;
      if (state === 'applied' || state === 'refused') {
        if (interactive) process.stdout.write('\n');
        printReport(status.body, options.json);
        if (state === 'refused') process.exitCode = 1;
        return;
      }
      if (interactive && progress) process.stdout.write(`\r${progressBar(progress.chunksDone, progress.chunks)}`);
      await delay(500);
    }
  });

  for (const [collection, key, what] of [
    ['items', '<id>', 'item'],
    ['locations', '<code>', 'location'],
  ] as const) {
    const group = program.command(collection).description(`the ${collection} of the catalogue`);
    listCommand(group, collection);
    showCommand(group, collection, key, what);
  }
}

/** `<collection> show <key>`: one record as the API answers it. */
export function showCommand(group: Command, collection: string, key: string, what: string): void {
  apiOption(group.command('show').description(`one ${what}`).argument(key, `the ${what}`)).action(async (id: string, options: { api?: string }) => {
    const response = await client(options.api).get(`/v1/${collection}/${encodeURIComponent(id)}`);
    if (ok(response)) console.log(JSON.stringify(response.body, null, 2));
  });
}

/** `<collection> list`: a page at a time, with the catalogue filters. */
export function listCommand(group: Command, collection: string): void {
  apiOption(
    group
      .command('list')
      .description(`list ${collection}, a page at a time`)
      .option('--q <text>', 'name, handle, SKU or code containing this')
      .option('--tag <tag>', 'with this tag (locations: this channel)')
      .option('--location <code>', 'at this location')
      .option('--archived <which>', 'false (active), true or all', 'false')
      .option('--limit <n>', 'per page', '50')
      .option('--cursor <cursor>', 'the page after this cursor')
      .option('--json', 'print the raw JSON'),
  ).action(async (options: Record<string, string | boolean | undefined>) => {
    const query = new URLSearchParams();
    for (const name of ['q', 'tag', 'location', 'archived', 'limit', 'cursor']) if (typeof options[name] === 'string') query.set(name, options[name] as string);
    const response = await client(options.api as string | undefined).get(`/v1/${collection}?${query}`);
    if (!ok(response)) return;
    if (options.json) {
      console.log(JSON.stringify(response.body, null, 2));
      return;
    }
    for (const row of response.body.items as Record<string, unknown>[]) console.log(summaryOf(collection, row));
    if (response.body.nextCursor) console.log(`more: --cursor ${response.body.nextCursor}`);
  });
}

function summaryOf(collection: string, row: Record<string, unknown>): string {
  const archived = row.archivedAt ? '  (archived)' : '';
  if (collection === 'items') return `${row.id}\t${row.handle ?? '-'}\t${row.name}\t${row.variantCount} variant(s)${archived}`;
  if (collection === 'locations') return `${row.code}\t${row.kind}\t${row.name}\t${(row.channels as string[]).join(',')}${archived}`;
  return `${row.id}\t${row.name}\t${row.location}\tlead time ${row.leadTimeDays ?? '-'} d, MOQ ${row.moq ?? '-'}${archived}`;
}

interface ImportStatusBody {
  importId: string;
  status: string;
  report?: { problems: { row: number; column: string; reason: string }[]; skippedRows: unknown[]; ignoredColumns: string[]; applied?: Record<string, number>; ledgerRefusals?: { row: number; reason: string }[] };
}

/** Problems listed on the terminal; the whole report is in GET /v1/catalogue/imports/:id (or --json). */
const LISTED = 50;

function printReport(body: ImportStatusBody, asJson?: boolean): void {
  if (asJson) {
    console.log(JSON.stringify(body, null, 2));
    return;
  }
  const report = body.report;
  console.log(`${body.importId}: ${body.status}`);
  if (!report) return;
  if (report.applied) console.log(`applied: ${Object.entries(report.applied).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  if (report.skippedRows.length > 0) console.log(`skipped rows: ${report.skippedRows.length}`);
  if (report.ignoredColumns.length > 0) console.log(`ignored columns: ${report.ignoredColumns.join(', ')}`);
  const problems = [...report.problems, ...(report.ledgerRefusals ?? []).map((r) => ({ ...r, column: 'onHand' }))];
  for (const p of problems.slice(0, LISTED)) console.log(`  line ${p.row}, ${p.column}: ${p.reason}`);
  if (problems.length > LISTED) console.log(`  … and ${problems.length - LISTED} more (--json prints them all)`);
}
