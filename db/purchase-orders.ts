import type { OpenSupply } from '../domain/backorders';
import { idempotencyKeys } from '../domain/keys';
import { expectedAt, isFullyReceived, receiveOnLine, remainingOf } from '../domain/purchase-orders';
import { Refusal } from '../domain/refusal';
import { lateOrderException } from '../domain/replenishment-exceptions';
import type { RaiseExceptionInput } from '../schemas/exceptions';
import type { NewPurchaseOrder, PurchaseOrderPage, PurchaseOrderQuery, PurchaseOrderReceipt, PurchaseOrderStatus, PurchaseOrderView, ReceiptView, SupplierOrder } from '../schemas/purchase-orders';
import type { OperationOf } from '../schemas/stock';
import { canonicalJson, sha256 } from './canonical';
import { clientOf, isoAt, type Sql } from './client';
import type { Db } from './connection';
import { StockRefusal } from './errors';
import { applyStockOperations, type BatchOperation } from './ledger-batch';

/** Who the ledger records as raising a purchase order's incoming: the order's own workflow. */
export const PURCHASING_ACTOR = 'purchasing';

interface NewLine {
  variantId: number;
  locationId: number;
  quantity: number;
  unitCost: number | null;
}

interface OrderHeader {
  poNumber: string;
  supplierId: string;
  currency: string | null;
  suggestionId: number | null;
  requestHash: string | null;
  createdBy: string;
  expectedAt: Date;
}

/** Writes an order and its lines in the caller's transaction; false when the number is taken (nothing written). */
async function insertOrder(tx: Sql, order: OrderHeader, lines: NewLine[]): Promise<boolean> {
  const [inserted] = await tx`
    INSERT INTO purchase_orders (po_number, supplier_id, currency, suggestion_id, request_hash, created_by, expected_at)
    VALUES (${order.poNumber}, ${order.supplierId}, ${order.currency}, ${order.suggestionId}, ${order.requestHash}, ${order.createdBy}, ${order.expectedAt.toISOString()}::timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING po_number`;
  if (!inserted) return false;
  const rows = lines.map((l, i) => ({ po_number: order.poNumber, line_no: i + 1, variant_id: l.variantId, location_id: l.locationId, quantity: l.quantity, unit_cost: l.unitCost }));
  await tx`INSERT INTO purchase_order_lines ${tx(rows)}`;
  await audit(tx, order.createdBy, 'purchase_order.created', order.poNumber, { supplierId: order.supplierId, suggestionId: order.suggestionId, lines: lines.length, expectedAt: order.expectedAt.toISOString() });
  return true;
}

function audit(tx: Sql, actor: string, action: string, poNumber: string, details: object) {
  return tx`INSERT INTO audit_log (actor, action, subject_type, subject_id, details) VALUES (${actor}, ${action}, 'purchase_order', ${poNumber}, ${JSON.stringify(details)}::jsonb)`;
}

/**
 * The order an approved suggestion becomes, in the caller's transaction (the one that marks the
 * suggestion approved): its lines at the approved quantities (a line edited to 0 is dropped), due
 * after the supplier's lead time. Nothing when every line was dropped, or when it exists already.
 */
export async function orderFromSuggestion(tx: Sql, suggestionId: number, poNumber: string, by: string, at: Date): Promise<void> {
  const lines = await tx<(NewLine & { supplierId: string; currency: string | null; leadTimeDays: number })[]>`
    SELECT sl.variant_id AS "variantId", sl.location_id AS "locationId", sl.quantity, sl.unit_cost::float8 AS "unitCost",
           s.supplier_id AS "supplierId", s.currency, coalesce(sup.lead_time_days, 0) AS "leadTimeDays"
    FROM purchase_suggestion_lines sl
    JOIN purchase_suggestions s ON s.id = sl.suggestion_id
    JOIN suppliers sup ON sup.id = s.supplier_id
    WHERE sl.suggestion_id = ${suggestionId} AND sl.quantity > 0
    ORDER BY sl.line_no`;
  if (lines.length === 0) return;
  const [{ supplierId, currency, leadTimeDays }] = lines;
  await insertOrder(tx, { poNumber, supplierId, currency, suggestionId, requestHash: null, createdBy: by, expectedAt: expectedAt(at, leadTimeDays) }, lines);
}

/**
 * An order placed directly. The same number with the same request answers with the order as it
 * is (`created: false`); the same number with another request is refused. An unknown SKU or
 * location is named by its line, and nothing is written.
 */
export async function createPurchaseOrder(db: Db, request: NewPurchaseOrder, at: Date): Promise<{ created: boolean }> {
  const { by: _by, ...asked } = request;
  const requestHash = sha256(canonicalJson(asked));
  return clientOf(db).begin(async (tx) => {
    const [existing] = await tx<{ requestHash: string | null }[]>`SELECT request_hash AS "requestHash" FROM purchase_orders WHERE po_number = ${request.poNumber}`;
    if (existing) {
      if (existing.requestHash === requestHash) return { created: false };
      throw new Refusal('purchase_order_conflict', `purchase order ${request.poNumber} already exists with other content`, 'poNumber');
    }
    const [supplier] = await tx<{ archived: boolean; leadTimeDays: number; currency: string | null }[]>`
      SELECT archived_at IS NOT NULL AS archived, coalesce(lead_time_days, 0) AS "leadTimeDays", currency FROM suppliers WHERE id = ${request.supplierId}`;
    if (!supplier || supplier.archived) throw new StockRefusal('unknown_supplier', `unknown or archived supplier "${request.supplierId}"`, 'supplierId');
    const resolved = await tx<{ i: number; variantId: number | null; locationId: number | null; cost: number | null }[]>`
      SELECT r.i, v.id AS "variantId", l.id AS "locationId", sv.cost::float8 AS cost
      FROM unnest(${request.lines.map((l) => l.sku)}::text[], ${request.lines.map((l) => l.location)}::text[]) WITH ORDINALITY AS r(sku, location, i)
      LEFT JOIN variants v ON v.sku = r.sku
      LEFT JOIN locations l ON l.code = r.location
      LEFT JOIN supplier_variants sv ON sv.supplier_id = ${request.supplierId} AND sv.variant_id = v.id
      ORDER BY r.i`;
    const lines = resolved.map((r) => {
      const line = request.lines[r.i - 1];
      const field = `lines.${r.i - 1}`;
      if (r.variantId === null) throw new StockRefusal('unknown_sku', `unknown SKU "${line.sku}"`, `${field}.sku`);
      if (r.locationId === null) throw new StockRefusal('unknown_location', `unknown location "${line.location}"`, `${field}.location`);
      return { variantId: r.variantId, locationId: r.locationId, quantity: line.quantity, unitCost: line.unitCost ?? r.cost };
    });
    const expected = request.expectedAt ? new Date(request.expectedAt) : expectedAt(at, supplier.leadTimeDays);
    await insertOrder(tx, { poNumber: request.poNumber, supplierId: request.supplierId, currency: request.currency ?? supplier.currency, suggestionId: null, requestHash, createdBy: request.by, expectedAt: expected }, lines);
    return { created: true };
  });
}

interface LineRow {
  lineNo: number;
  sku: string;
  location: string;
  quantity: number;
  received: number;
}

/** The order's row locked (receipts and closes of one order take turns), with its lines. */
async function lockOrder(tx: Sql, poNumber: string): Promise<{ status: PurchaseOrderStatus; lines: LineRow[] }> {
  const [order] = await tx<{ status: PurchaseOrderStatus }[]>`SELECT status FROM purchase_orders WHERE po_number = ${poNumber} FOR UPDATE`;
  if (!order) throw new Refusal('not_found', `no purchase order ${poNumber}`, 'po');
  const lines = await tx<LineRow[]>`
    SELECT pl.line_no AS "lineNo", v.sku, l.code AS location, pl.quantity, pl.received
    FROM purchase_order_lines pl JOIN variants v ON v.id = pl.variant_id JOIN locations l ON l.id = pl.location_id
    WHERE pl.po_number = ${poNumber} ORDER BY pl.line_no`;
  return { status: order.status, lines };
}

/** Each line's units put into incoming, keyed by line: the first to run (the workflow, a receipt, a close) does it, the others replay it. */
function incomingOps(poNumber: string, lines: LineRow[]): OperationOf<'expect_incoming'>[] {
  return lines.map((l) => ({
    kind: 'expect_incoming',
    idempotencyKey: idempotencyKeys.purchaseOrderIncoming(poNumber, l.lineNo),
    actor: PURCHASING_ACTOR,
    sourceRef: poNumber,
    sku: l.sku,
    location: l.location,
    quantity: l.quantity,
  }));
}

/** Applies the operations in the caller's transaction; any refusal undoes them all. */
async function applyAll(tx: Sql, ops: BatchOperation[]): Promise<void> {
  for (const outcome of await applyStockOperations(tx, ops)) if ('refusal' in outcome) throw outcome.refusal;
}

/** Raises incoming by every line of the order, once; answers with the order's status. */
export async function raiseOrderIncoming(db: Db, poNumber: string): Promise<{ status: PurchaseOrderStatus }> {
  return clientOf(db).begin(async (tx) => {
    const order = await lockOrder(tx, poNumber);
    await applyAll(tx, incomingOps(poNumber, order.lines));
    return { status: order.status };
  });
}

export async function orderStatus(db: Db, poNumber: string): Promise<PurchaseOrderStatus | undefined> {
  const [row] = await clientOf(db)<{ status: PurchaseOrderStatus }[]>`SELECT status FROM purchase_orders WHERE po_number = ${poNumber}`;
  return row?.status;
}

/** The PO line a receipt line means: by SKU, and by location too when the order has the SKU at several. */
function lineFor(lines: LineRow[], entry: PurchaseOrderReceipt['lines'][number], i: number, poNumber: string): LineRow {
  const matches = lines.filter((l) => l.sku === entry.sku && (entry.location === undefined || l.location === entry.location));
  if (matches.length === 1) return matches[0];
  const where = entry.location ? `${entry.sku}@${entry.location}` : entry.sku;
  if (matches.length === 0) throw new Refusal('invalid_lines', `purchase order ${poNumber} has no line for ${where}`, `lines.${i}.sku`);
  throw new Refusal('invalid_lines', `purchase order ${poNumber} has ${entry.sku} at ${matches.map((m) => m.location).join(' and ')}; say which`, `lines.${i}.location`);
}

export type ReceiptOutcome = { receipt: ReceiptView; replayed: boolean; status: PurchaseOrderStatus };

/**
 * A receipt against an order in one transaction: each line's units move from incoming to on hand
 * in one ledger movement (incoming down by what of the line was still expected), the lines'
 * received totals and the receipt are recorded, and the order is `received` once every line is in
 * full. A receipt id seen before answers with what it applied and moves nothing; one over the
 * tolerance is refused naming the line, and nothing is written.
 */
export async function receiveAgainstOrder(db: Db, poNumber: string, receipt: PurchaseOrderReceipt, actor: string, tolerance: number): Promise<ReceiptOutcome> {
  const requestHash = sha256(canonicalJson(receipt));
  return clientOf(db).begin(async (tx) => {
    const order = await lockOrder(tx, poNumber);
    const [seen] = await tx<{ requestHash: string }[]>`SELECT request_hash AS "requestHash" FROM purchase_order_receipts WHERE po_number = ${poNumber} AND receipt_id = ${receipt.receiptId}`;
    if (seen) {
      if (seen.requestHash !== requestHash) throw new Refusal('idempotency_conflict', `receipt ${receipt.receiptId} of ${poNumber} was already recorded with other lines`, 'receiptId');
      return { receipt: (await receiptsOf(tx, poNumber, receipt.receiptId))[0], replayed: true, status: order.status };
    }
    if (order.status !== 'open') throw new Refusal('purchase_order_not_open', `purchase order ${poNumber} is ${order.status}: it takes no more receipts`, 'po');
    const received = new Map(order.lines.map((l) => [l.lineNo, { ...l }]));
    const applied = receipt.lines.map((entry, i) => {
      const line = received.get(lineFor(order.lines, entry, i, poNumber).lineNo) as LineRow;
      const outcome = receiveOnLine(line, entry.quantity, tolerance);
      if ('over' in outcome) {
        throw new Refusal(
          'over_receipt',
          `receiving ${entry.quantity} of ${line.sku}@${line.location} would make ${outcome.over.total} received of ${line.quantity} ordered, more than the over-receipt tolerance allows (at most ${outcome.over.allowance})`,
          `lines.${i}.quantity`,
        );
      }
      line.received = outcome.received;
      return { line, outcome };
    });
    const receiptOps = applied.map(({ line, outcome }): OperationOf<'receive_incoming'> => ({
      kind: 'receive_incoming',
      idempotencyKey: idempotencyKeys.purchaseOrderReceipt(poNumber, receipt.receiptId, line.lineNo),
      actor,
      sourceRef: poNumber,
      sku: line.sku,
      location: line.location,
      quantity: outcome.quantity,
      expected: outcome.fromIncoming,
    }));
    await applyAll(tx, [...incomingOps(poNumber, order.lines), ...receiptOps]);
    const lines = applied.map(({ line, outcome }) => ({ lineNo: line.lineNo, sku: line.sku, location: line.location, quantity: outcome.quantity }));
    await tx`
      UPDATE purchase_order_lines pl SET received = pl.received + r.quantity
      FROM unnest(${lines.map((l) => l.lineNo)}::int[], ${lines.map((l) => l.quantity)}::int[]) AS r(line_no, quantity)
      WHERE pl.po_number = ${poNumber} AND pl.line_no = r.line_no`;
    await tx`
      INSERT INTO purchase_order_receipts (po_number, receipt_id, request_hash, lines, received_by)
      VALUES (${poNumber}, ${receipt.receiptId}, ${requestHash}, ${JSON.stringify(lines)}::jsonb, ${actor})`;
    const status: PurchaseOrderStatus = isFullyReceived([...received.values()]) ? 'received' : 'open';
    if (status === 'received') await tx`UPDATE purchase_orders SET status = 'received' WHERE po_number = ${poNumber}`;
    return { receipt: (await receiptsOf(tx, poNumber, receipt.receiptId))[0], replayed: false, status };
  });
}

/**
 * Closes an open order short: each line's unreceived remainder leaves incoming, and nothing more
 * is received against it. Closing one already closed answers with it as it is.
 */
export async function closeOrder(db: Db, poNumber: string, by: string, reason: string): Promise<{ status: PurchaseOrderStatus; changed: boolean }> {
  return clientOf(db).begin(async (tx) => {
    const order = await lockOrder(tx, poNumber);
    if (order.status === 'closed') return { status: order.status, changed: false };
    if (order.status !== 'open') throw new Refusal('purchase_order_not_open', `purchase order ${poNumber} is ${order.status}: there is nothing left to close`, 'po');
    const cancelled = order.lines.filter((l) => remainingOf(l) > 0).map((l): OperationOf<'cancel_incoming'> => ({
      kind: 'cancel_incoming',
      idempotencyKey: idempotencyKeys.purchaseOrderClose(poNumber, l.lineNo),
      actor: by,
      sourceRef: poNumber,
      sku: l.sku,
      location: l.location,
      quantity: remainingOf(l),
    }));
    await applyAll(tx, [...incomingOps(poNumber, order.lines), ...cancelled]);
    await tx`UPDATE purchase_orders SET status = 'closed', closed_by = ${by}, closed_at = now(), close_reason = ${reason} WHERE po_number = ${poNumber}`;
    await audit(tx, by, 'purchase_order.closed', poNumber, { reason, cancelled: cancelled.map((c) => ({ sku: c.sku, location: c.location, quantity: c.quantity })) });
    return { status: 'closed', changed: true };
  });
}

async function receiptsOf(sql: Sql, poNumber: string, receiptId?: string): Promise<ReceiptView[]> {
  return sql<ReceiptView[]>`
    SELECT receipt_id AS "receiptId", received_by AS "receivedBy", ${isoAt(sql, 'received_at')} AS "receivedAt", lines
    FROM purchase_order_receipts
    WHERE po_number = ${poNumber} AND (${receiptId ?? null}::text IS NULL OR receipt_id = ${receiptId ?? null})
    ORDER BY received_at, receipt_id`;
}

const summaryColumns = (sql: Sql) => sql`
  o.po_number AS "poNumber", o.supplier_id AS "supplierId", o.status, o.currency,
  (SELECT coalesce(sum(pl.quantity * coalesce(pl.unit_cost, 0)), 0)::float8 FROM purchase_order_lines pl WHERE pl.po_number = o.po_number) AS value,
  o.suggestion_id::int AS "suggestionId", o.created_by AS "createdBy", ${isoAt(sql, 'o.created_at')} AS "createdAt",
  ${isoAt(sql, 'o.expected_at')} AS "expectedAt", ${isoAt(sql, 'o.sent_at')} AS "sentAt", o.closed_by AS "closedBy", ${isoAt(sql, 'o.closed_at')} AS "closedAt"`;

export async function getPurchaseOrder(db: Db, poNumber: string): Promise<PurchaseOrderView | undefined> {
  const sql = clientOf(db);
  const [order] = await sql<Omit<PurchaseOrderView, 'receipts'>[]>`
    SELECT ${summaryColumns(sql)}, o.close_reason AS "closeReason",
           (SELECT json_agg(json_build_object('lineNo', pl.line_no, 'sku', v.sku, 'location', l.code, 'ordered', pl.quantity, 'received', pl.received,
                                              'remaining', greatest(pl.quantity - pl.received, 0), 'unitCost', pl.unit_cost::float8) ORDER BY pl.line_no)
            FROM purchase_order_lines pl JOIN variants v ON v.id = pl.variant_id JOIN locations l ON l.id = pl.location_id
            WHERE pl.po_number = o.po_number) AS lines
    FROM purchase_orders o WHERE o.po_number = ${poNumber}`;
  if (!order) return undefined;
  return { ...order, receipts: await receiptsOf(sql, poNumber) };
}

/** Orders by number, a page at a time (the cursor is the last number of the page before). */
export async function listPurchaseOrders(db: Db, query: PurchaseOrderQuery): Promise<PurchaseOrderPage> {
  const sql = clientOf(db);
  const rows = await sql<PurchaseOrderPage['items']>`
    SELECT ${summaryColumns(sql)} FROM purchase_orders o
    WHERE o.po_number > ${query.cursor ?? ''}
      ${query.status ? sql`AND o.status = ${query.status}` : sql``}
      ${query.supplierId ? sql`AND o.supplier_id = ${query.supplierId}` : sql``}
    ORDER BY o.po_number LIMIT ${query.limit + 1}`;
  const more = rows.length > query.limit;
  const items = more ? rows.slice(0, query.limit) : [...rows];
  return { items, nextCursor: more ? items[items.length - 1].poNumber : null };
}

/** The order as its supplier's webhook receives it, and where that is; no URL: the supplier takes no orders by webhook. */
export async function supplierOrderOf(db: Db, poNumber: string): Promise<{ order: SupplierOrder; webhookUrl: string | null; sent: boolean } | undefined> {
  const sql = clientOf(db);
  const [row] = await sql<(SupplierOrder & { webhookUrl: string | null; sent: boolean })[]>`
    SELECT o.po_number AS "poNumber", o.supplier_id AS "supplierId", o.currency, ${isoAt(sql, 'o.expected_at')} AS "expectedAt",
           s.order_webhook_url AS "webhookUrl", o.sent_at IS NOT NULL AS sent,
           (SELECT json_agg(json_build_object('lineNo', pl.line_no, 'sku', v.sku,
                     'supplierSku', (SELECT min(m.supplier_sku) FROM supplier_sku_map m WHERE m.supplier_id = o.supplier_id AND m.variant_id = pl.variant_id),
                     'location', l.code, 'quantity', pl.quantity, 'unitCost', pl.unit_cost::float8) ORDER BY pl.line_no)
            FROM purchase_order_lines pl JOIN variants v ON v.id = pl.variant_id JOIN locations l ON l.id = pl.location_id
            WHERE pl.po_number = o.po_number) AS lines
    FROM purchase_orders o JOIN suppliers s ON s.id = o.supplier_id WHERE o.po_number = ${poNumber}`;
  if (!row) return undefined;
  const { webhookUrl, sent, ...order } = row;
  return { order, webhookUrl, sent };
}

export async function markSent(db: Db, poNumber: string): Promise<void> {
  await clientOf(db)`UPDATE purchase_orders SET sent_at = coalesce(sent_at, now()) WHERE po_number = ${poNumber}`;
}

/** An order's status, and, while it is still open, the exception that says it is late. */
export async function checkLate(db: Db, poNumber: string): Promise<{ status: PurchaseOrderStatus; exception?: RaiseExceptionInput }> {
  const order = await getPurchaseOrder(db, poNumber);
  if (!order) throw new Refusal('not_found', `no purchase order ${poNumber}`, 'po');
  return order.status === 'open' ? { status: order.status, exception: lateOrderException(order) } : { status: order.status };
}

/**
 * The open purchase order lines with units still to come for each place, keyed by
 * `locationId/variantId`: what a backorder's date is taken from.
 */
export async function openSupply(sql: Sql, places: readonly { variantId: number; locationId: number }[]): Promise<Map<string, OpenSupply[]>> {
  const rows = await sql<(OpenSupply & { place: string })[]>`
    SELECT l.location_id || '/' || l.variant_id AS place, o.po_number AS "poNumber", ${isoAt(sql, 'o.expected_at')} AS "expectedAt",
           l.quantity - l.received AS outstanding
    FROM purchase_order_lines l JOIN purchase_orders o ON o.po_number = l.po_number
    WHERE o.status = 'open' AND l.quantity > l.received
      AND (l.variant_id, l.location_id) IN (SELECT * FROM unnest(${places.map((p) => p.variantId)}::int[], ${places.map((p) => p.locationId)}::int[]))`;
  const byPlace = new Map<string, OpenSupply[]>();
  for (const { place, ...line } of rows) byPlace.set(place, [...(byPlace.get(place) ?? []), line]);
  return byPlace;
}
