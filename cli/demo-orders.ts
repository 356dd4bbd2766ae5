import { waitFor } from '../runtime/wait';
import type { ApiClient } from './api-client';
import { formatStockLevels } from './format';

const SKU = 'SHOE-TRAIL-44';
const ORDERS = 12;
const UNITS = 8;

/**
 * A small flash sale through the events API: 12 orders for 8 pairs of shoes (8 reserved, 4 rejected
 * cleanly), one order paid, accepted and shipped, one cancelled after payment (stock back, an
 * exception for the refund) and one handed to a warehouse that never answers (an exception once
 * STOCKFLOW_ORDER_FULFILMENT_WINDOW passes).
 */
export async function orderScenario(api: ApiClient, run: string, uiBase: string): Promise<void> {
  console.log(`\nA flash sale: ${ORDERS} orders for ${UNITS} × ${SKU}, each an orderReconciliation workflow order/demo/<order id>`);
  // Whatever earlier runs left, the sale starts with exactly UNITS available: a correction sets it.
  const levels = await api.get(`/v1/stock/${SKU}`);
  const before = levels.body?.locations?.find((l: { location: string }) => l.location === 'WH1')?.available ?? 0;
  if (before !== UNITS) {
    const set = await api.post('/v1/stock/movements', { kind: 'adjust', idempotencyKey: `demo/${run}/sale-stock`, sku: SKU, location: 'WH1', delta: UNITS - before, reasonCode: 'correction', note: 'stock for the demo flash sale', actor: 'demo' });
    if (set.status !== 200) throw new Error(`setting the sale stock failed: ${set.status} ${set.body?.message}`);
  }
  const ids = Array.from({ length: ORDERS }, (_, i) => `${run}-${i + 1}`);
  let eventNo = 0;
  const send = (type: string, orderId: string, extra: Record<string, unknown> = {}) => {
    eventNo += 1;
    return api.post('/v1/orders/events', { type, eventId: `demo-${run}-${eventNo}`, orderId, channel: 'demo', ...extra });
  };
  const stateOf = async (orderId: string): Promise<{ state: string; outcomeReason: string | null } | undefined> => {
    const response = await api.get(`/v1/orders/${orderId}?channel=demo`);
    return response.status === 200 ? response.body : undefined;
  };
  const reach = (orderId: string, states: string[]) =>
    waitFor(`order ${orderId} to be ${states.join(' or ')}`, async () => {
      const order = await stateOf(orderId);
      return order && states.includes(order.state) ? order : undefined;
    });

  await Promise.all(ids.map((id) => send('order.placed', id, { location: 'WH1', lines: [{ sku: SKU, quantity: 1 }] })));
  const outcomes = await Promise.all(ids.map((id) => reach(id, ['reserved', 'rejected'])));
  const reserved = ids.filter((_, i) => outcomes[i].state === 'reserved');
  const rejected = outcomes.filter((o) => o.state === 'rejected');
  console.log(`  ${reserved.length} reserved, ${rejected.length} rejected${rejected[0] ? `, e.g. "${rejected[0].outcomeReason}"` : ''}`);
  if (reserved.length < 3) return;

  const [shipped, cancelled, stuck] = reserved;
  for (const id of [shipped, cancelled, stuck]) await send('order.paid', id);
  await send('fulfilment.accepted', shipped);
  await send('fulfilment.shipped', shipped, { trackingRef: `TRACK-${run}` });
  console.log(`  order ${shipped}: paid, accepted, shipped → ${(await reach(shipped, ['closed'])).state}`);
  await reach(cancelled, ['fulfilment_requested']);
  await send('order.cancelled', cancelled, { reason: 'customer changed their mind' });
  console.log(`  order ${cancelled}: paid, then cancelled → ${(await reach(cancelled, ['cancelled'])).outcomeReason} (refund exception for fulfilment-lead)`);
  await reach(stuck, ['fulfilment_requested']);
  console.log(
    `  order ${stuck}: paid and handed to the warehouse, which never answers: an order_fulfilment exception opens when ` +
      `STOCKFLOW_ORDER_FULFILMENT_WINDOW passes (default 2h; start with e.g. 30s to watch it)`,
  );
  const after = await api.get(`/v1/stock/${SKU}`);
  if (after.status === 200) console.log(`\n${formatStockLevels(after.body)}`);
  console.log(`\nThe whole trail of one order: npm run stockflow -- orders show ${stuck} --channel demo`);
  console.log(`Orders in the Temporal UI: ${uiBase}/workflows?query=${encodeURIComponent('StockflowFlow="orderReconciliation"')}`);
}
