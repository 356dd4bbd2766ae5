import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { PurchaseOrderPage, PurchaseOrderView } from '../schemas/purchase-orders';
import type { StoredReorderPolicy } from '../schemas/replenishment';
import { apiClientFor, reportFailure, type ApiResponse } from './api-client';
import { formatTable } from './format';

function answered<T>(response: ApiResponse, print: (body: T) => void): void {
  if (response.status >= 300) return reportFailure(response);
  print(response.body as T);
}

const money = (value: number, currency: string | null) => `${value.toFixed(2)}${currency ? ` ${currency}` : ''}`;

function describeOrder(o: PurchaseOrderView): string {
  const closed = o.status === 'closed' ? `, closed by ${o.closedBy}: ${o.closeReason}` : '';
  return [
    `${o.poNumber} ${o.supplierId} ${o.status} ${money(o.value, o.currency)}, expected ${o.expectedAt}${o.sentAt ? `, sent ${o.sentAt}` : ''}${closed}`,
    ...o.lines.map((l) => `  ${l.lineNo}. ${l.sku}@${l.location} ordered ${l.ordered}, received ${l.received}, remaining ${l.remaining}`),
    ...o.receipts.map((r) => `  receipt ${r.receiptId} by ${r.receivedBy} at ${r.receivedAt}: ${r.lines.map((l) => `${l.sku}@${l.location} × ${l.quantity}`).join(', ')}`),
  ].join('\n');
}

/** `SKU=quantity` or `SKU@LOCATION=quantity`, as a receiving clerk types a line. */
function receiptLine(text: string, lines: { sku: string; location?: string; quantity: number }[] = []) {
  const match = /^([^@=]+)(?:@([^=]+))?=(\d+)$/.exec(text);
  if (!match) throw new Error(`--line ${text}: must be <sku>=<quantity> or <sku>@<location>=<quantity>, e.g. A1=12`);
  return [...lines, { sku: match[1], ...(match[2] ? { location: match[2] } : {}), quantity: Number(match[3]) }];
}

/** `stockflow policies import|list`: reorder policies, in bulk from a CSV file. */
export function registerPolicyCommands(program: Command): void {
  const policies = program.command('policies').description('reorder policies per SKU and location');
  policies
    .command('import')
    .description('create or replace policies from a CSV file (kind,sku,location,supplier_id,reorder_point,order_quantity,safety_days,target_days,window_days,service_level); all or none')
    .argument('<file>', 'the CSV file')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (file: string, options: { api?: string }) => {
      const response = await apiClientFor(options).putRaw('/v1/reorder-policies', readFileSync(file, 'utf8'), 'text/csv');
      answered<{ saved: number }>(response, (body) => console.log(`saved ${body.saved} polic${body.saved === 1 ? 'y' : 'ies'}`));
    });
  policies
    .command('list')
    .description('policies with their points and quantities or days')
    .option('--location <code>', 'only this location')
    .option('--supplier <id>', 'only this supplier')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (options: { location?: string; supplier?: string; api?: string }) => {
      const query = new URLSearchParams({ ...(options.location ? { location: options.location } : {}), ...(options.supplier ? { supplierId: options.supplier } : {}) });
      answered<StoredReorderPolicy[]>(await apiClientFor(options).get(`/v1/reorder-policies?${query}`), (body) =>
        console.log(
          formatTable(
            ['sku', 'location', 'supplier', 'kind', 'policy'],
            body.map((p) => [p.sku, p.location, p.supplierId, p.kind, p.kind === 'static' ? `point ${p.reorderPoint}, quantity ${p.orderQuantity}` : `safety ${p.safetyDays}d${p.serviceLevel ? ` + ${p.serviceLevel * 100}% service level` : ''}, target ${p.targetDays}d${p.windowDays ? `, window ${p.windowDays}d` : ''}`]),
          ),
        ),
      );
    });
}

/** `stockflow purchase-orders list|show|receive|close`. */
export function registerPurchaseOrderCommands(program: Command): void {
  const orders = program.command('purchase-orders').description('purchase orders: approved suggestions and orders placed directly');
  orders
    .command('list')
    .description('orders by number, a page at a time')
    .option('--status <status>', 'open, received or closed')
    .option('--supplier <id>', 'only this supplier')
    .option('--cursor <po>', 'the next cursor the previous page printed')
    .option('--limit <n>', 'orders per page', '50')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (options: { status?: string; supplier?: string; cursor?: string; limit: string; api?: string }) => {
      const query = new URLSearchParams({ limit: options.limit, ...(options.status ? { status: options.status } : {}), ...(options.supplier ? { supplierId: options.supplier } : {}), ...(options.cursor ? { cursor: options.cursor } : {}) });
      answered<PurchaseOrderPage>(await apiClientFor(options).get(`/v1/purchase-orders?${query}`), (page) => {
        console.log(formatTable(['po', 'supplier', 'status', 'value', 'expected', 'sent'], page.items.map((o) => [o.poNumber, o.supplierId, o.status, money(o.value, o.currency), o.expectedAt, o.sentAt ?? '-'])));
        if (page.nextCursor) console.log(`next: --cursor ${page.nextCursor}`);
      });
    });
  orders
    .command('show')
    .description('one order: lines ordered, received and remaining, and its receipts')
    .argument('<po>', 'the PO number')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (po: string, options: { api?: string }) => answered(await apiClientFor(options).get(`/v1/purchase-orders/${encodeURIComponent(po)}`), (o: PurchaseOrderView) => console.log(describeOrder(o))));
  orders
    .command('receive')
    .description('record a receipt against an order; resending the same receipt id applies nothing twice')
    .argument('<po>', 'the PO number')
    .requiredOption('--receipt <id>', "the warehouse's receipt id")
    .requiredOption('--line <sku=quantity>', 'a received line, repeatable (sku@location=quantity when the order has the SKU at several locations)', receiptLine)
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (po: string, options: { receipt: string; line: { sku: string; location?: string; quantity: number }[]; api?: string }) => {
      const response = await apiClientFor(options).post(`/v1/purchase-orders/${encodeURIComponent(po)}/receipts`, { receiptId: options.receipt, lines: options.line });
      answered(response, (body: { replayed: boolean; order: PurchaseOrderView }) => console.log(`${body.replayed ? 'already recorded, nothing applied again\n' : ''}${describeOrder(body.order)}`));
    });
  orders
    .command('close')
    .description('close an order short: what was not received leaves incoming')
    .argument('<po>', 'the PO number')
    .requiredOption('--reason <text>', 'why, for the audit trail')
    .option('--api <url>', 'Stockflow API base URL')
    .action(async (po: string, options: { reason: string; api?: string }) =>
      answered(await apiClientFor(options).post(`/v1/purchase-orders/${encodeURIComponent(po)}/close`, { reason: options.reason }, 'operator'), (o: PurchaseOrderView) => console.log(describeOrder(o))),
    );
}
