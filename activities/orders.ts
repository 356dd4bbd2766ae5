import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/connection';
import { expiredReservations, orderLineProblems, recordOrderTransition, type TransitionInput } from '../db/orders';
import { resolveResponsibility } from '../db/ownership';
import { orderPlacementOf } from '../db/placements';
import { endCart } from '../db/carts';
import { ownershipDomainOf } from '../domain/order-ownership';
import { FINAL_STATES, type OrderLine, type PlacementAnswer } from '../schemas/orders';
import { metrics } from '../runtime/metrics';
import { idempotencyKeys } from '../domain/keys';

export interface FulfilmentConfig {
  /** Where hand-offs are POSTed; unset means they are only logged (the warehouse answers through the events API). */
  url?: string;
  log?: (line: string) => void;
}

export interface FulfilmentRequest {
  workflowId: string;
  channel: string;
  orderId: string;
  location: string;
  lines: OrderLine[];
  /** Each retry of the hand-off is a new attempt; the receiver drops a repeat of the same one. */
  attempt: number;
}

export type TransitionRequest = Omit<TransitionInput, 'ownerId'>;

export function createOrderActivities(db: Db, fulfilment: FulfilmentConfig) {
  const log = fulfilment.log ?? ((line: string) => console.log(line));
  return {
    /** Records a state change with the owner the ownership rules give that state (idempotent by sequence number). */
    async recordOrderTransition(input: TransitionRequest): Promise<{ ownerId: string; at: string }> {
      const { owner } = await resolveResponsibility(db, { type: ownershipDomainOf(input.to) });
      const { recorded, at } = await recordOrderTransition(db, { ...input, ownerId: owner.id });
      if (recorded && FINAL_STATES.includes(input.to)) metrics.orderOutcomes.inc({ state: input.to });
      return { ownerId: owner.id, at: at.toISOString() };
    },

    /** What makes the lines impossible to reserve as placed (unknown SKUs, unknown location); empty when they are fine. */
    async checkOrderLines(input: { location: string; lines: OrderLine[] }): Promise<string[]> {
      return orderLineProblems(db, input.location, input.lines);
    },

    /** The answer the API gave at checkout (reservations made, or why not); null for an order placed before answers were stored. */
    async orderPlacement(workflowId: string): Promise<PlacementAnswer | null> {
      return (await orderPlacementOf(db, workflowId)) ?? null;
    },

    /** Ends a cart whose hold ran out, putting its units back; a cart not held or not yet due comes back as it is. */
    async expireCart(cartId: string): Promise<{ status: string; expiresAt: string }> {
      const cart = await endCart(db, cartId, 'expired', 'cart-expiry');
      if (!cart) throw ApplicationFailure.create({ type: 'not_found', message: `no cart "${cartId}"`, nonRetryable: true });
      return { status: cart.status, expiresAt: cart.expiresAt };
    },

    /** Hands a paid order to the warehouse. A refusal (4xx) is final; a failure to reach it is retried, then reported. */
    async requestFulfilment(request: FulfilmentRequest): Promise<{ delivered: 'webhook' | 'log' }> {
      if (!fulfilment.url) {
        log(`fulfilment requested for ${request.workflowId} (attempt ${request.attempt}): ${JSON.stringify(request.lines)} from ${request.location}`);
        return { delivered: 'log' };
      }
      const response = await fetch(fulfilment.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKeys.fulfilmentHandoff(request.workflowId, request.attempt) },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) {
        throw ApplicationFailure.create({
          type: 'fulfilment_refused',
          message: `the fulfilment endpoint answered ${response.status}`,
          nonRetryable: response.status < 500 && response.status !== 429,
        });
      }
      return { delivered: 'webhook' };
    },

    /** Active reservations past their expiry, oldest first. */
    async findExpiredReservations(limit: number): Promise<{ id: number; key: string }[]> {
      return expiredReservations(db, limit);
    },
  };
}
