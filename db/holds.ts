import { allocate, mergeLines, type Allocated } from '../domain/allocation';
import { coveringOrder, type OpenSupply } from '../domain/backorders';
import { BALANCE_MAX } from '../domain/balance';
import type { AllocationRules, PlacedPart, PlacementAnswer } from '../schemas/orders';
import type { OperationOf, OperationResult } from '../schemas/stock';
import type { Sql } from './client';
import { NUMERIC_OUT_OF_RANGE, pgErrorOf, type StockRefusal } from './errors';
import { lockBalances, reserveStatement, type Place } from './ledger';
import { keyed } from './ledger-requests';
import { openSupply } from './purchase-orders';
import type { PlaceState } from './ledger-refusals';
import { takeRefusal } from './stock';

export type RejectedAnswer = Extract<PlacementAnswer, { status: 'rejected' }>;

/** Unwinds the reserving transaction (or savepoint); the answer is then stored on its own. */
export class Shortfall extends Error {
  constructor(readonly answer: RejectedAnswer) {
    super(answer.reason);
  }
}

/** Lines to hold for an order or a cart: where (or, with no location, how to allocate), under which keys, for how long. */
export interface HoldSpec {
  /** What holds the lines, as refusals name it. */
  what: 'order' | 'cart';
  lines: readonly { sku: string; quantity: number }[];
  location?: string;
  channel: string;
  allocation: AllocationRules;
  /** The reservation key of each part (1-based). */
  reservationKey: (partNo: number) => string;
  /** Who holds the reservations: the order's or the cart's workflow id. */
  orderRef: string;
  ttlSeconds: number;
  actor: string;
}

/** A SKU at an open location as a hold finds it. */
export type Stocked = Place & PlaceState & { hasBalance: boolean };

export type LocationState = 'open' | 'archived' | 'unknown';

/** A part of a hold and the place it is reserved at. */
export interface PlannedPart {
  part: PlacedPart;
  place: Stocked;
}

/** Every SKU of `skus` at every open location, or only at `locations` when given. */
export function readStock(sql: Sql, skus: readonly string[], locations?: readonly string[]) {
  return sql<Stocked[]>`
    SELECT v.sku, l.code AS location, v.id AS "variantId", l.id AS "locationId", v.allow_negative AS "allowNegative",
           coalesce(b.available, 0) AS available, b.variant_id IS NOT NULL AS "hasBalance", b.count_status AS "countStatus",
           v.archived_at IS NOT NULL AS archived, false AS "locationArchived"
    FROM variants v CROSS JOIN locations l
    LEFT JOIN stock_balances b ON b.variant_id = v.id AND b.location_id = l.id
    WHERE v.sku = ANY(${skus}::text[]) AND (${locations === undefined} OR l.code = ANY(${locations ?? []}::text[]))
      AND l.archived_at IS NULL`;
}

/** Whether each of `codes` is a location, and whether it is archived. */
export async function locationStates(sql: Sql, codes: readonly string[]): Promise<Map<string, LocationState>> {
  const rows = await sql<{ code: string; archived: boolean }[]>`SELECT code, archived_at IS NOT NULL AS archived FROM locations WHERE code = ANY(${codes}::text[])`;
  const known = new Map(rows.map((r) => [r.code, r.archived ? ('archived' as const) : ('open' as const)]));
  return new Map(codes.map((code) => [code, known.get(code) ?? 'unknown']));
}

/**
 * How a hold's lines are placed on the stock given (read under lock, or kept exact by the lock's
 * holder): refused as invalid, short at allocation, or its parts: lines of one SKU as their sum,
 * allocated when no location is named. Lines naming an unknown SKU or location are an answer, not a
 * failure.
 */
export function planHold(spec: HoldSpec, stock: readonly Stocked[], location: LocationState): { answer: RejectedAnswer } | { shortfall: RejectedAnswer } | { parts: PlannedPart[] } {
  const wants = mergeLines(spec.lines);
  const problems = lineProblems(spec, stock, location);
  if (problems.length > 0) return { answer: { status: 'rejected', why: 'invalid', reason: `invalid ${spec.what}: ${problems.join('; ')}` } };
  const allocation: { parts: Allocated[] } | { shortfall: string } =
    spec.location === undefined
      ? allocate(wants, stock, spec.allocation, spec.allocation.splitChannels.includes(spec.channel))
      : { parts: wants.map((w) => ({ ...w, location: spec.location as string })) };
  if ('shortfall' in allocation) return { shortfall: { status: 'rejected', why: 'out_of_stock', reason: allocation.shortfall } };
  const placeOf = new Map(stock.map((s) => [`${s.location}/${s.sku}`, s]));
  return {
    parts: allocation.parts.map((a, i) => ({
      part: { partNo: i + 1, lineNos: a.lineNos, sku: a.sku, location: a.location, quantity: a.quantity, reservationKey: spec.reservationKey(i + 1) },
      place: placeOf.get(`${a.location}/${a.sku}`) as Stocked,
    })),
  };
}

/** Parts in lock order (location, then variant), the one order every holder takes balance rows in, so two cannot deadlock. */
export function inLockOrder(parts: readonly PlannedPart[]): PlannedPart[] {
  return [...parts].sort((a, b) => a.place.locationId - b.place.locationId || a.place.variantId - b.place.variantId);
}

/** A hold refused at a part that does not fit, in the words a refused reservation gives. */
export function shortAnswer(refusal: StockRefusal): RejectedAnswer {
  return { status: 'rejected', why: 'out_of_stock', reason: `${refusal.code}: ${refusal.message}` };
}

/**
 * Reserves every part of the lines in the caller's transaction or throws a Shortfall (the caller
 * rolls back): planned by planHold, each part through the ledger's reserve statement, in lock order.
 */
export async function reserveLines(tx: Sql, spec: HoldSpec, record?: (parts: PlacedPart[]) => Promise<unknown>): Promise<PlacementAnswer> {
  const skus = mergeLines(spec.lines).map((w) => w.sku);
  const [stock, locations] = await Promise.all([
    readStock(tx, skus, spec.location === undefined ? undefined : [spec.location]),
    spec.location === undefined ? new Map<string, LocationState>() : locationStates(tx, [spec.location]),
  ]);
  const plan = planHold(spec, stock, spec.location === undefined ? 'open' : (locations.get(spec.location) ?? 'unknown'));
  if ('answer' in plan) return plan.answer;
  if ('shortfall' in plan) throw new Shortfall(plan.shortfall);
  const locked = inLockOrder(plan.parts);
  // The reservations and the record of them go out in one pipeline, in lock order: the first
  // balance row lock is not held across a turn of the event loop, which under a flash sale's load
  // was what serialised the buyers. A part short is found afterwards and rolls everything back.
  const [results] = await Promise.all([reserveParts(tx, spec, locked), record?.(plan.parts.map((p) => p.part))]);
  for (const [i, { part, place }] of locked.entries()) {
    if (!results[i]) throw new Shortfall(shortAnswer(await takeRefusal(tx, place, part.quantity)));
  }
  const held = await heldParts(tx, plan.parts, locked, results, spec.allocation.backorderLeadSeconds);
  if (held.backorders) await record?.(held.parts);
  return { status: 'reserved', parts: held.parts, expiresAt: held.expiresAt };
}

/**
 * Sends the reservations of parts in lock order, in one pipeline, each through the ledger's reserve
 * statement: a result for each part reserved, none for a part short. A backorderable item may be
 * reserved where it never had a balance row: the ledger creates it first, locking every row of the
 * parts in lock order (the reservations then find them locked).
 * A balance pushed past its limit is a refusal of the hold, not a failure.
 */
export async function reserveParts(tx: Sql, spec: HoldSpec, locked: readonly PlannedPart[]): Promise<(OperationResult | undefined)[]> {
  const created = locked.some((p) => !p.place.hasBalance) ? lockBalances(tx, locked.map((p) => p.place)) : undefined;
  const [, results] = await Promise.all([created, Promise.all(locked.map(({ part }) => reservePart(tx, spec, part)))]).catch((error: unknown) => {
    if (pgErrorOf(error)?.code !== NUMERIC_OUT_OF_RANGE) throw error;
    throw new Shortfall({ status: 'rejected', why: 'invalid', reason: `quantity_out_of_range: holding these lines would take a balance beyond ${BALANCE_MAX.toLocaleString('en-US')}, the most a stock balance can hold` });
  });
  return results;
}

/**
 * The parts as held, in part order, from their reservations' results (in lock order): each with
 * the units beyond what was available marked backordered, and the reservations' expiry.
 */
export async function heldParts(tx: Sql, parts: readonly PlannedPart[], locked: readonly PlannedPart[], results: readonly (OperationResult | undefined)[], leadSeconds: number) {
  const after = locked.map((p, i) => ({ ...p, balance: (results[i] as OperationResult).balances[0] }));
  const short = after.filter(({ part, balance }) => Math.min(part.quantity, -balance.available) > 0);
  const supply = short.length === 0 ? new Map<string, OpenSupply[]>() : await openSupply(tx, short.map((s) => s.place));
  for (const { part, place, balance } of short) {
    const quantity = Math.min(part.quantity, -balance.available);
    const order = coveringOrder(-balance.available, supply.get(`${place.locationId}/${place.variantId}`) ?? []);
    part.backordered = order
      ? { quantity, incoming: balance.incoming, expectedBy: order.expectedAt, basis: 'purchase_order', purchaseOrder: order.poNumber }
      : { quantity, incoming: balance.incoming, expectedBy: new Date(Date.now() + leadSeconds * 1000).toISOString(), basis: 'lead_time' };
  }
  const expiresAt = results.reduce((last, r) => r?.reservation?.expiresAt ?? last, '');
  return { parts: parts.map((p) => p.part), expiresAt, backorders: short.length > 0 };
}

/** The ledger's reserve operation for a part of a hold. */
export function reserveOp(spec: HoldSpec, part: PlacedPart): OperationOf<'reserve'> {
  return {
    kind: 'reserve',
    idempotencyKey: part.reservationKey,
    actor: spec.actor,
    sourceRef: spec.orderRef,
    orderRef: spec.orderRef,
    sku: part.sku,
    location: part.location,
    quantity: part.quantity,
    ttlSeconds: spec.ttlSeconds,
  };
}

async function reservePart(tx: Sql, spec: HoldSpec, part: PlacedPart): Promise<OperationResult | undefined> {
  const [reserved] = await reserveStatement(tx, keyed(reserveOp(spec, part)));
  return reserved?.result;
}

/**
 * The same reasons, in the same words, as the order workflow gave before answers were synchronous.
 * An archived location keeps its history but takes no new reservation; allocation passes it by.
 */
function lineProblems(spec: HoldSpec, stock: readonly Stocked[], location: LocationState): string[] {
  if (location === 'unknown') return [`location: unknown location "${spec.location}"`];
  if (location === 'archived') return [`location: location "${spec.location}" is archived: its history stays, nothing new may be reserved there`];
  const known = new Set(stock.map((s) => s.sku));
  return spec.lines.flatMap((line, i) => (known.has(line.sku) ? [] : [`lines.${i}.sku: unknown SKU "${line.sku}"`]));
}
