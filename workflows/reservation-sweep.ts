import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { refusalOf } from './refusal';
import { idempotencyKeys } from '../domain/keys';

const { findExpiredReservations, applyStockOperation } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** How many reservations one sweep releases; the next scheduled sweep takes the rest. */
const BATCH = 500;

/**
 * Releases (as expired) every active reservation whose expiry passed without its workflow
 * releasing it — a workflow that was terminated, or a reservation made outside an order. Runs on
 * a schedule. A reservation settled meanwhile is refused as not active, and that is fine.
 */
export async function reservationSweep(): Promise<{ released: number }> {
  const expired = await findExpiredReservations(BATCH);
  const outcomes = await Promise.all(
    expired.map(async ({ id, key }) => {
      try {
        await applyStockOperation({ kind: 'release', idempotencyKey: idempotencyKeys.sweepRelease(id), reservationKey: key, outcome: 'expired', actor: 'reservation-sweep' });
        return 1;
      } catch (error) {
        if (refusalOf(error)?.code === 'reservation_not_active') return 0;
        throw error;
      }
    }),
  );
  return { released: outcomes.reduce<number>((sum, n) => sum + n, 0) };
}
