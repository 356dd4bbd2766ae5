import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { cartChangedSignal, type CartChange, type CartHoldInput } from './cart-messages';

const { expireCart } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * The expiry of one cart's hold (`cart/<cartId>`): a durable timer to the cart's expiry, moved by
 * an extension, stopped by a release or a conversion. The database is the authority: when the
 * timer fires, expireCart ends the cart only if it is still held and due, and otherwise says when
 * it is due now (an extension whose signal was lost) or how it ended. The reservation sweep stays
 * the safety net for a hold whose workflow never ran.
 */
export async function cartHold(input: CartHoldInput): Promise<{ outcome: string }> {
  const hold = new CartClock(input);
  setHandler(cartChangedSignal, (change) => hold.changed(change));
  return hold.run();
}

class CartClock {
  private deadline: number;
  private moved = false;
  private ended?: CartChange['ended'];

  constructor(private readonly input: CartHoldInput) {
    this.deadline = Date.parse(input.expiresAt);
  }

  changed(change: CartChange): void {
    if (change.ended) this.ended = change.ended;
    if (change.expiresAt) {
      this.deadline = Date.parse(change.expiresAt);
      this.moved = true;
    }
  }

  async run(): Promise<{ outcome: string }> {
    for (;;) {
      this.moved = false;
      const wait = Math.max(1, this.deadline - Date.now());
      await condition(() => this.moved || this.ended !== undefined, wait);
      if (this.ended) return { outcome: this.ended };
      if (this.moved) continue;
      const cart = await expireCart(this.input.cartId);
      if (cart.status !== 'held') return { outcome: cart.status };
      this.deadline = Date.parse(cart.expiresAt);
    }
  }
}
