import type { OrderState } from '../schemas/orders';

export type OrderOwnershipDomain = 'order_intake' | 'order_fulfilment';

/**
 * Who owns an order in each state: the state maps to an ownership domain that the ownership rules
 * match like an exception type, so `{"match": {"exceptionType": "order_fulfilment"}}` names the
 * owner of every state from payment on. Without a rule for a domain the default rule owns it.
 */
const STATE_OWNERSHIP: Record<OrderState, OrderOwnershipDomain> = {
  received: 'order_intake',
  validated: 'order_intake',
  reserved: 'order_intake',
  rejected: 'order_intake',
  expired: 'order_intake',
  cancelled: 'order_intake',
  paid: 'order_fulfilment',
  fulfilment_requested: 'order_fulfilment',
  accepted: 'order_fulfilment',
  shipped: 'order_fulfilment',
  closed: 'order_fulfilment',
  failed: 'order_fulfilment',
};

/** The ownership domain responsible for an order in this state. */
export function ownershipDomainOf(state: OrderState): OrderOwnershipDomain {
  return STATE_OWNERSHIP[state];
}
