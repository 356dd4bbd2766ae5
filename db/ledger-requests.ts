import type { OperationResult, StockOperation } from '../schemas/stock';
import { canonicalJson, sha256 } from './canonical';
import { clientOf, type Sql } from './client';
import type { Db } from './connection';
import { StockRefusal } from './errors';

/** An operation with the request it is keyed by: everything but who sent it, as canonical JSON, and its hash. */
export interface Keyed<Op extends StockOperation = StockOperation> {
  op: Op;
  request: string;
  requestHash: string;
}

/** What a key's first use left: the request it was for and the result it got. */
export interface FirstUse {
  requestHash: string;
  kind: string;
  result: OperationResult;
}

/**
 * Identifies a request independent of key order and of who sent it (a retry may come from another
 * process). Both entry points of the ledger, one operation or a batch, key their requests so.
 */
export function keyed<Op extends StockOperation>(op: Op): Keyed<Op> {
  const { actor: _actor, ...request } = op;
  const json = canonicalJson(request);
  return { op, request: json, requestHash: sha256(json) };
}

export function operationRequestHash(op: StockOperation): string {
  return keyed(op).requestHash;
}

/** The request hash already claimed for a key, if any; lets the API refuse a conflicting reuse up front. */
export async function claimedRequestHash(db: Db, idempotencyKey: string): Promise<string | undefined> {
  return (await firstUse(clientOf(db), idempotencyKey))?.requestHash;
}

export async function firstUse(sql: Sql, idempotencyKey: string): Promise<FirstUse | undefined> {
  const [first] = await sql<FirstUse[]>`
    SELECT request_hash AS "requestHash", kind, result FROM stock_operations WHERE idempotency_key = ${idempotencyKey}`;
  return first;
}

export async function firstUses(sql: Sql, idempotencyKeys: readonly string[]): Promise<Map<string, FirstUse>> {
  const rows = await sql<(FirstUse & { key: string })[]>`
    SELECT idempotency_key AS key, request_hash AS "requestHash", kind, result
    FROM stock_operations WHERE idempotency_key = ANY(${idempotencyKeys}::text[])`;
  return new Map(rows.map(({ key, ...first }) => [key, first]));
}

/** The first result again, for the same request under its key; a different request under it is refused. */
export function replay({ op, requestHash }: Keyed, first: FirstUse): OperationResult {
  if (first.requestHash !== requestHash) {
    throw new StockRefusal(
      'idempotency_conflict',
      `idempotency key "${op.idempotencyKey}" was already used for a different ${first.kind} request`,
      'idempotencyKey',
    );
  }
  return { ...first.result, replayed: true };
}
