import { idempotencyKeys } from '../domain/keys';
import type { CartView } from '../schemas/carts';
import type { AllocationRules, PlacedPart, PlacementAnswer } from '../schemas/orders';
import { clientOf, type Sql } from './client';
import type { Db } from './connection';
import { StockRefusal } from './errors';
import { expiresAtIso, extendReservations } from './ledger';
import { reserveLines, Shortfall } from './holds';
import { applyStockOperation } from './stock';

export interface CartHold {
  cartId: string;
  workflowId: string;
  channel: string;
  location?: string;
  lines: { sku: string; quantity: number }[];
  ttlSeconds: number;
  allocation: AllocationRules;
  actor: string;
}

type Rejected = Extract<PlacementAnswer, { status: 'rejected' }>;

/**
 * Holds a cart's lines in one transaction: the cart row is claimed, every part reserved through
 * the ledger (lines of a SKU as their sum, allocated when no location is named; see reserveLines)
 * with the cart's workflow id as holder, all or nothing. The cart id is the business key: a cart
 * already held (or ended) is returned as it is, `isNew: false`. A cart that cannot be held is
 * not stored, so the shopper can try again.
 */
export async function holdCart(db: Db, hold: CartHold): Promise<{ cart: CartView; isNew: boolean } | { refused: Rejected }> {
  const pool = clientOf(db);
  try {
    return await pool.begin(async (tx) => {
      const [claimed] = await tx`
        INSERT INTO carts (cart_id, workflow_id, channel, parts, expires_at)
        VALUES (${hold.cartId}, ${hold.workflowId}, ${hold.channel}, '[]'::jsonb, now() + make_interval(secs => ${hold.ttlSeconds}))
        ON CONFLICT (cart_id) DO NOTHING
        RETURNING cart_id`;
      if (!claimed) return { cart: (await cartRow(tx, hold.cartId)) as CartView, isNew: false };
      const answer = await reserveLines(tx, {
        what: 'cart',
        lines: hold.lines,
        location: hold.location,
        channel: hold.channel,
        allocation: hold.allocation,
        reservationKey: (partNo) => idempotencyKeys.cartPart(hold.cartId, 'reserve', partNo),
        orderRef: hold.workflowId,
        ttlSeconds: hold.ttlSeconds,
        actor: hold.actor,
      });
      if (answer.status === 'rejected') throw new Shortfall(answer);
      const [cart] = await tx<CartView[]>`
        UPDATE carts SET parts = ${JSON.stringify(answer.parts)}::jsonb, expires_at = ${answer.expiresAt}::timestamptz
        WHERE cart_id = ${hold.cartId}
        RETURNING ${cartColumns(tx)}`;
      return { cart, isNew: true };
    });
  } catch (error) {
    if (error instanceof Shortfall) return { refused: error.answer };
    throw error;
  }
}

/**
 * Moves a held cart's expiry to `ttlSeconds` from now, with its reservations' (so the sweep leaves
 * them alone), in one transaction. Undefined when the cart is not held, or its hold already ran out.
 */
export async function extendCart(db: Db, cartId: string, ttlSeconds: number, actor: string): Promise<CartView | undefined> {
  return clientOf(db).begin(async (tx) => {
    const [cart] = await tx<CartView[]>`
      UPDATE carts SET expires_at = now() + make_interval(secs => ${ttlSeconds}), updated_at = now()
      WHERE cart_id = ${cartId} AND status = 'held' AND expires_at > now()
      RETURNING ${cartColumns(tx)}`;
    if (!cart) return undefined;
    await extendReservations(tx, cart.workflowId, ttlSeconds, actor);
    return cart;
  });
}

/**
 * Ends a held cart (`released` on request; `expired` once its expiry passed) and puts its units
 * back, each part released under its own key. The status is claimed first, conditionally, so a
 * conversion (which needs the cart held) and an ending can never both win; a retry after a crash
 * finds the status already set and finishes the releases. A cart not ended here (converted,
 * ended otherwise, or not yet due) is returned as it is.
 */
export async function endCart(db: Db, cartId: string, outcome: 'released' | 'expired', actor: string): Promise<CartView | undefined> {
  const pool = clientOf(db);
  const [ending] = await pool<CartView[]>`
    UPDATE carts SET status = ${outcome}, updated_at = now()
    WHERE cart_id = ${cartId}
      AND (status = ${outcome} OR (status = 'held' AND (${outcome} = 'released' OR expires_at <= now())))
    RETURNING ${cartColumns(pool)}`;
  if (!ending) return cartRow(pool, cartId);
  for (const part of ending.parts) {
    await putBack(db, cartId, part, outcome, actor);
  }
  return ending;
}

async function putBack(db: Db, cartId: string, part: PlacedPart, outcome: 'released' | 'expired', actor: string): Promise<void> {
  try {
    await applyStockOperation(db, {
      kind: 'release',
      idempotencyKey: idempotencyKeys.cartPart(cartId, outcome === 'expired' ? 'expire' : 'release', part.partNo),
      reservationKey: part.reservationKey,
      outcome,
      actor,
    });
  } catch (error) {
    // The sweep (the safety net) may have expired it first: it is back already.
    if (!(error instanceof StockRefusal && error.code === 'reservation_not_active')) throw error;
  }
}

export function cartOf(db: Db, cartId: string): Promise<CartView | undefined> {
  return cartRow(clientOf(db), cartId);
}

async function cartRow(sql: Sql, cartId: string): Promise<CartView | undefined> {
  const [cart] = await sql<CartView[]>`SELECT ${cartColumns(sql)} FROM carts WHERE cart_id = ${cartId}`;
  return cart;
}

function cartColumns(sql: Sql) {
  return sql`cart_id AS "cartId", workflow_id AS "workflowId", channel, status, parts, order_ref AS "orderRef", ${expiresAtIso(sql)} AS "expiresAt"`;
}
