import { WorkflowNotFoundError } from '@temporalio/client';
import { cartOf, endCart, extendCart, holdCart } from '../db/carts';
import { workflowIds } from '../domain/keys';
import { Refusal } from '../domain/refusal';
import type { CartHoldRequest, CartView } from '../schemas/carts';
import { cartChangedSignal, type CartChange, type CartHoldInput } from '../workflows/cart-messages';
import type { cartHold } from '../workflows/cart-hold';
import { StockflowFlow } from '../workflows/search-attributes';
import type { Services } from './context';
import { startOrAttach } from './outcome';

const ACTOR = 'cart';

/**
 * Holds a cart's lines (all or none) until its expiry, then starts the cart's expiry timer. A
 * cart id already held answers with the hold as it is (`new: false`). A hold that cannot be made
 * is refused and nothing is stored.
 */
export async function holdCartLines(s: Services, request: CartHoldRequest): Promise<{ cart: CartView; new: boolean }> {
  const workflowId = workflowIds.cart(request.cartId);
  const held = await holdCart(s.db, {
    cartId: request.cartId,
    workflowId,
    channel: request.channel,
    location: request.location,
    lines: request.lines,
    ttlSeconds: request.ttl ?? s.cartTtlSeconds,
    allocation: s.allocation,
    actor: ACTOR,
  });
  if ('refused' in held) {
    const { why, reason } = held.refused;
    throw new Refusal(why === 'invalid' ? 'invalid_lines' : 'insufficient_stock', reason, 'lines');
  }
  if (held.cart.status === 'held') {
    await startOrAttach(s.client, workflowId, () =>
      s.client.workflow.start<typeof cartHold>('cartHold', {
        taskQueue: s.taskQueue,
        workflowId,
        args: [{ cartId: request.cartId, expiresAt: held.cart.expiresAt } satisfies CartHoldInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: StockflowFlow, value: 'cartHold' }],
        staticSummary: `Cart ${request.cartId} from ${request.channel}`,
      }),
    );
  }
  return { cart: held.cart, new: held.isNew };
}

export async function extendCartHold(s: Services, cartId: string, ttlSeconds: number): Promise<CartView> {
  const cart = await extendCart(s.db, cartId, ttlSeconds, ACTOR);
  if (!cart) throw await notHeld(s, cartId);
  await tellCart(s, cartId, { expiresAt: cart.expiresAt });
  return cart;
}

export async function releaseCart(s: Services, cartId: string): Promise<CartView> {
  const cart = await endCart(s.db, cartId, 'released', ACTOR);
  if (!cart) throw new Refusal('not_found', `no cart "${cartId}"`, 'cartId');
  if (cart.status !== 'released') throw new Refusal('cart_not_held', `cart "${cartId}" is ${cart.status}, not held`, 'cartId');
  await tellCart(s, cartId, { ended: 'released' });
  return cart;
}

export async function findCart(s: Services, cartId: string): Promise<CartView> {
  const cart = await cartOf(s.db, cartId);
  if (!cart) throw new Refusal('not_found', `no cart "${cartId}"`, 'cartId');
  return cart;
}

/**
 * Tells the cart's timer what changed. The database already says so: a timer that misses this
 * (its start was lost, or it already ended) finds out from expireCart when it fires.
 */
export async function tellCart(s: Pick<Services, 'client'>, cartId: string, change: CartChange): Promise<void> {
  try {
    await s.client.workflow.getHandle(workflowIds.cart(cartId)).signal(cartChangedSignal, change);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

async function notHeld(s: Services, cartId: string): Promise<Refusal> {
  const cart = await cartOf(s.db, cartId);
  if (!cart) return new Refusal('not_found', `no cart "${cartId}"`, 'cartId');
  const why = cart.status === 'held' ? 'its hold ran out' : `it is ${cart.status}`;
  return new Refusal('cart_not_held', `cart "${cartId}" cannot be extended: ${why}`, 'cartId');
}
