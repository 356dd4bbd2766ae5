import { mergeLines } from '../domain/allocation';
import type { PlacementAnswer } from '../schemas/orders';
import { recordAudits } from './audit';
import { clientOf, type Sql, type TransactionSql } from './client';
import type { Db } from './connection';
import { heldParts, inLockOrder, locationStates, planHold, readStock, reserveOp, shortAnswer, type PlannedPart, type Stocked } from './holds';
import { applyStockOperations } from './ledger-batch';
import { answerOf, holdOf, placeAllOrNothing, repeated, type PlacementReceipt, type PlacementRequest } from './placements';
import { refusalAt, reserveFits } from './ledger-refusals';

/** A placement of a batch: its receipt, or the failure that rolled back only its own part of the batch. */
export type BatchedPlacement = { receipt: PlacementReceipt } | { failed: unknown };

/**
 * Places a batch of orders in one transaction, each answered as placeOrder would answer it alone,
 * in the order given. Under a flash sale every buyer of the hot SKU queues on one balance row, and
 * a transaction holds that row through its commit's flush to disk: one commit for many buyers is
 * what lets them through, and a batch costs the same few round trips whatever its size.
 *
 * Every candidate balance of the batch is locked first, in lock order, so two batches cannot
 * deadlock however their orders overlap, and the figures read under those locks stay exact for the
 * whole transaction: each order is planned on them (allocation, all lines or none), the figures
 * move by what it takes, and the reservations of every order that fits go to the ledger in one
 * batch, with the answers written behind the ledger's write in its round trip. The ledger keeps
 * the last word: a reservation it refuses that the plan expected fails the batch, which then rolls
 * back whole and is placed again order by order. Orders converting a cart, and a second copy of
 * an event or an order within the batch, are placed after the rest, each in a savepoint of its own
 * (placeAllOrNothing, as placeOrder places one alone).
 */
export async function placeOrders(db: Db, requests: readonly PlacementRequest[]): Promise<BatchedPlacement[]> {
  return clientOf(db).begin(async (tx) => {
    const seen = new Set<string>();
    const together: number[] = [];
    const apart: number[] = [];
    requests.forEach((request, i) => {
      const keys = [`event ${request.event.channel} ${request.event.eventId}`, `order ${request.workflowId}`];
      (request.event.cartId !== undefined || keys.some((k) => seen.has(k)) ? apart : together).push(i);
      for (const k of keys) seen.add(k);
    });
    const placed: BatchedPlacement[] = [];
    const planned = together.length === 0 ? [] : await placeTogether(tx, together.map((i) => requests[i]));
    planned.forEach((receipt, j) => (placed[together[j]] = { receipt }));
    for (const i of apart) placed[i] = await placeInSavepoint(tx, requests[i]);
    return placed;
  });
}

async function placeInSavepoint(tx: TransactionSql, request: PlacementRequest): Promise<BatchedPlacement> {
  try {
    return { receipt: await placeAllOrNothing((work) => tx.savepoint(work), request) };
  } catch (failed) {
    return { failed };
  }
}

interface Planned {
  request: PlacementRequest;
  placementId: number;
  plan: { answer: PlacementAnswer } | { parts: PlannedPart[]; locked: PlannedPart[] };
}

async function placeTogether(tx: Sql, requests: readonly PlacementRequest[]): Promise<PlacementReceipt[]> {
  const skus = [...new Set(requests.flatMap((r) => mergeLines(r.event.lines).map((w) => w.sku)))];
  const named = [...new Set(requests.flatMap((r) => (r.event.location === undefined ? [] : [r.event.location])))];
  const everywhere = requests.some((r) => r.event.location === undefined);
  const [, stock, locations, stored] = await Promise.all([
    lockCandidates(tx, skus, named, everywhere),
    // Read behind the locks on the same connection: the figures their last holders committed.
    readStock(tx, skus, everywhere ? undefined : named),
    locationStates(tx, named),
    storeEvents(tx, requests),
  ]);

  const receipts: Promise<PlacementReceipt>[] = [];
  const planned: Planned[] = [];
  for (const [i, request] of requests.entries()) {
    const { stored: isStored, placementId } = stored[i];
    if (!isStored) receipts[i] = repeated(tx, request.event, request.workflowId);
    else if (placementId === null) receipts[i] = answerOf(tx, request.workflowId).then((answer) => ({ isNew: true, delivered: false, answer }));
    else planned[i] = { request, placementId, plan: planOn(stock, locations, request) };
  }

  const accepted = planned.filter((p) => p !== undefined && 'locked' in p.plan);
  const ops = accepted.flatMap((p) => (p.plan as { locked: PlannedPart[] }).locked.map(({ part }) => reserveOp(holdOf(p.request), part)));
  const audits = requests.flatMap((r, i) => (stored[i].stored && r.audit ? [r.audit] : []));
  // Written behind the ledger's write, in its round trip (the batch holds the hot row's lock until
  // it commits): the answers, and the audit rows of the requests whose events were stored.
  await applyStockOperations(tx, ops, async (outcomes) => {
    let next = 0;
    for (const p of accepted) {
      const { parts, locked } = p.plan as { parts: PlannedPart[]; locked: PlannedPart[] };
      const results = outcomes.slice(next, (next += locked.length)).map((o) => ('result' in o && !o.result.replayed ? o.result : undefined));
      if (results.includes(undefined)) throw new Error(`checkout batch: the ledger refused a reservation of order ${p.request.workflowId} that its plan expected to fit`);
      const held = await heldParts(tx, parts, locked, results, p.request.allocation.backorderLeadSeconds);
      p.plan = { answer: { status: 'reserved', parts: held.parts, expiresAt: held.expiresAt } };
    }
    const answers = planned.filter((p) => p !== undefined).map((p) => ({ id: p.placementId, answer: (p.plan as { answer: PlacementAnswer }).answer }));
    await Promise.all([
      answers.length > 0
        ? tx`
          UPDATE order_placements p SET answer = d.answer
          FROM jsonb_to_recordset(${JSON.stringify(answers)}::jsonb) AS d(id bigint, answer jsonb)
          WHERE p.id = d.id`
        : undefined,
      audits.length > 0 ? recordAudits(tx, audits) : undefined,
    ]);
  });
  planned.forEach((p, i) => (receipts[i] = Promise.resolve({ isNew: true, delivered: false, answer: (p.plan as { answer: PlacementAnswer }).answer })));
  return Promise.all(receipts);
}

/**
 * One order's plan on the batch's figures: refused, or its parts in lock order, every one of which
 * fits; what it takes then comes off the figures the next order is planned on.
 */
function planOn(stock: readonly Stocked[], locations: ReadonlyMap<string, 'open' | 'archived' | 'unknown'>, request: PlacementRequest): Planned['plan'] {
  const spec = holdOf(request);
  const skus = new Set(spec.lines.map((l) => l.sku));
  const mine = stock.filter((s) => skus.has(s.sku) && (spec.location === undefined || s.location === spec.location));
  const plan = planHold(spec, mine, spec.location === undefined ? 'open' : (locations.get(spec.location) ?? 'unknown'));
  if ('answer' in plan) return { answer: plan.answer };
  if ('shortfall' in plan) return { answer: plan.shortfall };
  const locked = inLockOrder(plan.parts);
  const short = locked.find(({ part, place }) => !reserveFits(place, part.quantity));
  if (short) return { answer: shortAnswer(refusalAt(short.place, short.place, short.part.quantity)) };
  for (const { part, place } of locked) place.available -= part.quantity;
  return { parts: plan.parts, locked };
}

/** Locks every balance the batch may reserve from (each SKU at the named locations, or at every location), in lock order. */
function lockCandidates(tx: Sql, skus: readonly string[], named: readonly string[], everywhere: boolean) {
  return tx`
    SELECT FROM stock_balances b
    JOIN variants v ON v.id = b.variant_id JOIN locations l ON l.id = b.location_id
    WHERE v.sku = ANY(${skus}::text[]) AND (${everywhere} OR l.code = ANY(${named}::text[]))
    ORDER BY b.location_id, b.variant_id
    FOR UPDATE OF b`;
}

/**
 * Stores each event and claims its order in one statement: `stored` is false for an event stored
 * before (a repeat), and `placementId` null for an order already claimed by another event.
 */
function storeEvents(tx: Sql, requests: readonly PlacementRequest[]) {
  const rows = requests.map((r, n) => ({ n, channel: r.event.channel, event_id: r.event.eventId, order_id: r.event.orderId, payload: r.event, workflow_id: r.workflowId }));
  return tx<{ stored: boolean; placementId: number | null }[]>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(n int, channel text, event_id text, order_id text, payload jsonb, workflow_id text)
    ), event AS (
      INSERT INTO order_events (channel, event_id, order_id, type, payload)
      SELECT channel, event_id, order_id, 'order.placed', payload FROM input ORDER BY n
      ON CONFLICT (channel, event_id) DO NOTHING
      RETURNING channel, event_id
    ), placement AS (
      INSERT INTO order_placements (workflow_id, channel, order_id, event_id)
      SELECT i.workflow_id, i.channel, i.order_id, i.event_id FROM input i JOIN event e USING (channel, event_id) ORDER BY i.n
      ON CONFLICT (workflow_id) DO NOTHING
      RETURNING id, workflow_id
    )
    SELECT e.event_id IS NOT NULL AS stored, p.id AS "placementId"
    FROM input i LEFT JOIN event e USING (channel, event_id) LEFT JOIN placement p ON p.workflow_id = i.workflow_id
    ORDER BY i.n`;
}
