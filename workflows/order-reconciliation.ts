import { allHandlersFinished, condition, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OrderEvent, OrderEventType, OrderLine, OrderState, OrderWindows, PlacementAnswer } from '../schemas/orders';
import { orderEventSignal, orderQuery, retryFulfilmentSignal, type FulfilmentRetry, type HeldLine, type OrderSnapshot } from './order-messages';
import { refusalOf } from './refusal';
import { exceptionSubjects, idempotencyKeys, type OrderLineStep } from '../domain/keys';
import { reservationTtlSeconds } from '../domain/order-windows';

const { applyStockOperation, recordOrderTransition, checkOrderLines, raiseException, orderPlacement } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// A warehouse that cannot be reached is reported to a person after a few tries, not retried forever.
const { requestFulfilment } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 4 },
});

export interface OrderFlowInput {
  channel: string;
  orderId: string;
  /** Windows in seconds (parsed from OrderWindows). */
  windows: OrderWindows;
}

export interface OrderOutcome {
  state: OrderState;
  reason?: string;
}

const SYSTEM = 'stockflow';

/**
 * One order, from its first upstream event to its outcome. Events may arrive twice or out of
 * order: each is a fact (placed, paid, cancelled, accepted, shipped, failed) the flow waits on,
 * so a payment that overtook its order is simply already there when it is needed.
 *
 * Stock: every line is reserved (all or nothing), committed when the warehouse accepts, issued
 * when it ships; a cancellation, a failure or an unpaid reservation puts back exactly what was
 * taken. What no rule can settle — a hand-off nobody acknowledges, a paid order that cannot be
 * fulfilled — opens an exception for a person instead of stalling.
 */
export async function orderReconciliation(input: OrderFlowInput): Promise<OrderOutcome> {
  const order = new OrderCase(input);
  setHandler(orderEventSignal, (event) => order.receive(event));
  setHandler(retryFulfilmentSignal, (request) => order.retryRequested(request));
  setHandler(orderQuery, () => order.snapshot());
  const outcome = await order.run();
  await condition(allHandlersFinished);
  return outcome;
}

type Facts = Partial<Record<OrderEventType, OrderEvent>>;
type PlacedEvent = Extract<OrderEvent, { type: 'order.placed' }>;
/** Details kept with a transition; `placed` also stores the lines and location on the order row. */
type TransitionExtra = { placed?: { location: string; lines: OrderLine[] } } & Record<string, unknown>;

class OrderCase {
  private readonly workflowId = workflowInfo().workflowId;
  private readonly facts: Facts = {};
  private readonly seen = new Set<string>();
  private readonly ignored: OrderSnapshot['ignored'] = [];
  private state: OrderState = 'received';
  private stateOwnerId?: string;
  private reason?: string;
  private location?: string;
  private lines: OrderLine[] = [];
  private held: HeldLine[] = [];
  private seq = 0;
  private readonly retries: FulfilmentRetry[] = [];
  private firstEvent?: OrderEvent;

  constructor(private readonly input: OrderFlowInput) {}

  /** Records the event as a fact; a repeated event id, or a second event of a kind already known, changes nothing. */
  receive(event: OrderEvent): void {
    if (this.seen.has(event.eventId)) return;
    this.seen.add(event.eventId);
    this.firstEvent ??= event;
    if (this.facts[event.type]) {
      this.ignored.push({ eventId: event.eventId, type: event.type, why: `${event.type} already received` });
      return;
    }
    this.facts[event.type] = event;
  }

  retryRequested(request: FulfilmentRetry): void {
    this.retries.push(request);
  }

  async run(): Promise<OrderOutcome> {
    await condition(() => this.firstEvent !== undefined);
    await this.moveTo('received', actorOf(this.firstEvent as OrderEvent));
    const has = (type: OrderEventType) => () => this.facts[type] !== undefined;
    const cancelled = has('order.cancelled');

    if (!(await condition(() => has('order.placed')() || cancelled(), this.seconds('paymentWindow')))) {
      return this.end('expired', SYSTEM, 'order.placed never arrived within the payment window');
    }
    if (cancelled()) return this.cancel();

    const placed = this.facts['order.placed'] as Extract<OrderEvent, { type: 'order.placed' }>;
    this.lines = placed.lines;
    // Orders placed since the API answers at checkout were reserved there; older histories reserve here.
    const answer = patched('placement-answered-at-checkout') ? await orderPlacement(this.workflowId) : undefined;
    const refused = answer ? await this.takeOver(placed, answer) : await this.validateAndReserve(placed);
    if (refused) return refused;

    if (!(await condition(() => has('order.paid')() || cancelled(), this.seconds('paymentWindow')))) {
      await this.putBack('expired');
      return this.end('expired', SYSTEM, `not paid within ${this.input.windows.paymentWindow}s; reservation released`);
    }
    if (cancelled()) return this.cancel();
    await this.moveTo('paid', actorOf(this.facts['order.paid'] as OrderEvent));

    const answered = () => has('fulfilment.accepted')() || has('fulfilment.shipped')() || has('fulfilment.failed')() || cancelled();
    await this.handOff(answered);
    if (cancelled()) return this.cancel();
    if (has('fulfilment.failed')()) return this.fail(this.facts['fulfilment.failed'] as OrderEvent);

    const lost = await this.commitAll();
    if (lost) return this.failWith(SYSTEM, lost);
    const accepted = this.facts['fulfilment.accepted'] ?? (this.facts['fulfilment.shipped'] as OrderEvent);
    await this.moveTo('accepted', actorOf(accepted), accepted.type === 'fulfilment.shipped' ? 'accepted with the shipment' : undefined);

    const done = () => has('fulfilment.shipped')() || has('fulfilment.failed')() || cancelled();
    if (!(await condition(done, this.seconds('fulfilmentWindow')))) {
      await this.raise('shipping', 'high', `accepted but not shipped within ${this.input.windows.fulfilmentWindow}s`);
      await condition(done);
    }
    if (has('fulfilment.shipped')()) return this.ship(this.facts['fulfilment.shipped'] as OrderEvent);
    if (cancelled()) return this.cancel();
    return this.fail(this.facts['fulfilment.failed'] as OrderEvent);
  }

  /**
   * The answer the API gave the buyer, recorded as the transitions the order always had: rejected
   * when invalid; validated, then reserved (with the allocation of each part) or rejected.
   */
  private async takeOver(placed: PlacedEvent, answer: PlacementAnswer): Promise<OrderOutcome | undefined> {
    const locations = answer.status === 'reserved' ? [...new Set(answer.parts.map((p) => p.location))] : [];
    this.location = placed.location ?? (locations.length > 0 ? locations.join(',') : undefined);
    const asPlaced = { placed: { location: this.location ?? '', lines: placed.lines } };
    if (answer.status === 'rejected' && answer.why === 'invalid') return this.end('rejected', SYSTEM, answer.reason, asPlaced);
    await this.moveTo('validated', actorOf(placed), undefined, asPlaced);
    if (answer.status === 'rejected') return this.end('rejected', SYSTEM, answer.reason);
    this.held = answer.parts.map((p) => ({ lineNo: p.partNo, sku: p.sku, quantity: p.quantity, location: p.location, reservationKey: p.reservationKey, status: 'active' }));
    await this.moveTo('reserved', SYSTEM, undefined, { reservations: this.held.map((h) => h.reservationKey), allocation: answer.parts });
    return undefined;
  }

  private async validateAndReserve(placed: PlacedEvent): Promise<OrderOutcome | undefined> {
    this.location = placed.location;
    const asPlaced = { placed: { location: placed.location ?? '', lines: placed.lines } };
    const problems = placed.location ? await checkOrderLines({ location: placed.location, lines: placed.lines }) : ['location: the order names none'];
    if (problems.length > 0) return this.end('rejected', SYSTEM, `invalid order: ${problems.join('; ')}`, asPlaced);
    await this.moveTo('validated', actorOf(placed), undefined, asPlaced);

    const shortfall = await this.reserveAll();
    if (shortfall) return this.end('rejected', SYSTEM, shortfall);
    await this.moveTo('reserved', SYSTEM, undefined, { reservations: this.held.map((h) => h.reservationKey) });
    return undefined;
  }

  /**
   * Hands the paid order to the warehouse and waits for its answer. When it cannot be reached, or
   * does not acknowledge within the window, a person gets an exception; the flow then waits for
   * the answer, a cancellation, or their `retryFulfilment`, which hands it off again.
   */
  private async handOff(answered: () => boolean): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const problem = await this.deliverHandOff(attempt);
      if (!problem && this.state === 'paid') await this.moveTo('fulfilment_requested', SYSTEM, undefined, { attempt });
      if (!problem && (await condition(answered, this.seconds('fulfilmentWindow')))) return;
      const retriesBefore = this.retries.length;
      await this.raise(
        'handoff',
        'high',
        problem ?? `downstream did not acknowledge the hand-off within ${this.input.windows.fulfilmentWindow}s (attempt ${attempt})`,
        { attempt, retry: `signal retryFulfilment to ${this.workflowId}, or POST /v1/orders/${this.input.orderId}/fulfilment-retries` },
      );
      await condition(() => answered() || this.retries.length > retriesBefore);
      if (answered()) return;
      // Orders started before retries were recorded replay without this transition.
      if (patched('record-fulfilment-retry')) {
        const retry = this.retries[this.retries.length - 1];
        await this.moveTo(this.state, retry.by, `fulfilment retry requested: ${retry.reason ?? 'no reason given'}`, { attempt: attempt + 1 });
      }
    }
  }

  private async deliverHandOff(attempt: number): Promise<string | undefined> {
    try {
      await requestFulfilment({
        workflowId: this.workflowId,
        channel: this.input.channel,
        orderId: this.input.orderId,
        location: this.location as string,
        lines: this.lines,
        attempt,
      });
      return undefined;
    } catch (error) {
      return `the fulfilment endpoint could not take the hand-off (attempt ${attempt}): ${error instanceof Error ? (error.cause as Error | undefined)?.message ?? error.message : String(error)}`;
    }
  }

  /** Reserves every line; on any shortfall releases what was taken and says why. */
  private async reserveAll(): Promise<string | undefined> {
    const ttlSeconds = reservationTtlSeconds(this.input.windows);
    const attempts = await Promise.allSettled(
      this.lines.map(async (line, i) => {
        const held: HeldLine = { lineNo: i + 1, sku: line.sku, quantity: line.quantity, reservationKey: idempotencyKeys.orderLine(this.workflowId, 'reserve', i + 1), status: 'active' };
        await applyStockOperation({
          kind: 'reserve',
          idempotencyKey: held.reservationKey,
          actor: SYSTEM,
          sourceRef: this.workflowId,
          orderRef: this.workflowId,
          sku: line.sku,
          location: this.location as string,
          quantity: line.quantity,
          ttlSeconds,
        });
        return held;
      }),
    );
    this.held = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const failures = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as unknown] : []));
    if (failures.length === 0) return undefined;
    await this.putBack('released');
    const refusals = failures.map((f) => refusalOf(f));
    const unexpected = failures.find((_, i) => !refusals[i]);
    if (unexpected) throw unexpected;
    return refusals.map((r) => `${r?.code}: ${r?.message}`).join('; ');
  }

  /**
   * Commits every line. A reservation the sweep expired meanwhile (its order outlived the windows
   * and the grace) is no longer held: that is reported, so the order fails with an exception.
   */
  private async commitAll(): Promise<string | undefined> {
    const lost = await Promise.all(
      this.held.map(async (h) => {
        try {
          await applyStockOperation({ kind: 'commit', idempotencyKey: idempotencyKeys.orderLine(this.workflowId, 'commit', h.lineNo), actor: SYSTEM, sourceRef: this.workflowId, reservationKey: h.reservationKey });
          h.status = 'committed';
          return undefined;
        } catch (error) {
          if (refusalOf(error)?.code !== 'reservation_not_active') throw error;
          h.status = 'expired';
          return `line ${h.lineNo} (${h.sku}) was no longer reserved when the warehouse accepted`;
        }
      }),
    );
    const reasons = lost.filter((reason) => reason !== undefined);
    return reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  private async ship(shipped: OrderEvent): Promise<OrderOutcome> {
    await this.moveTo('shipped', actorOf(shipped), undefined, 'trackingRef' in shipped && shipped.trackingRef ? { trackingRef: shipped.trackingRef } : {});
    await Promise.all(
      this.held.map(async (h) => {
        await applyStockOperation({ kind: 'ship', idempotencyKey: idempotencyKeys.orderLine(this.workflowId, 'ship', h.lineNo), actor: SYSTEM, sourceRef: this.workflowId, reservationKey: h.reservationKey });
        h.status = 'issued';
      }),
    );
    for (const [type, event] of Object.entries(this.facts)) {
      if (type === 'order.cancelled' || type === 'fulfilment.failed') this.ignored.push({ eventId: event.eventId, type, why: 'the order had already shipped' });
    }
    return this.end('closed', SYSTEM, undefined);
  }

  /**
   * Puts back what the order holds: active reservations are released (or expired); committed
   * stock — the warehouse had started picking — is unpicked, available again.
   */
  private async putBack(outcome: 'released' | 'expired'): Promise<void> {
    await Promise.all(
      this.held.map(async (h) => {
        const key = (step: OrderLineStep) => idempotencyKeys.orderLine(this.workflowId, step, h.lineNo);
        if (h.status === 'active') {
          await this.settle(() => applyStockOperation({ kind: 'release', idempotencyKey: key('release'), actor: SYSTEM, sourceRef: this.workflowId, reservationKey: h.reservationKey, outcome }));
          h.status = outcome;
        } else if (h.status === 'committed') {
          await applyStockOperation({ kind: 'unpick', idempotencyKey: key('unpick'), actor: SYSTEM, sourceRef: this.workflowId, reservationKey: h.reservationKey });
          h.status = 'released';
        }
      }),
    );
  }

  /** A reservation the sweep already expired is put back already: its release is refused, and that is fine. */
  private async settle(release: () => Promise<unknown>): Promise<void> {
    try {
      await release();
    } catch (error) {
      if (refusalOf(error)?.code !== 'reservation_not_active') throw error;
    }
  }

  private async cancel(): Promise<OrderOutcome> {
    const cancelled = this.facts['order.cancelled'] as Extract<OrderEvent, { type: 'order.cancelled' }>;
    const reachedWarehouse = ['fulfilment_requested', 'accepted'].includes(this.state);
    const paid = reachedWarehouse || this.state === 'paid';
    await this.putBack('released');
    const reason = `cancelled in ${this.state}${cancelled.reason ? `: ${cancelled.reason}` : ''}`;
    if (paid) {
      await this.raise(
        'cancelled',
        'medium',
        reachedWarehouse ? 'cancelled after the hand-off: stop the warehouse and refund the customer' : 'cancelled after payment: refund the customer',
        { stateWhenCancelled: this.state },
      );
    }
    return this.end('cancelled', actorOf(cancelled), reason);
  }

  private fail(failed: OrderEvent): Promise<OrderOutcome> {
    return this.failWith(actorOf(failed), 'reason' in failed && failed.reason ? failed.reason : 'no reason given');
  }

  private async failWith(actor: string, why: string): Promise<OrderOutcome> {
    await this.putBack('released');
    await this.raise('failed', 'high', `fulfilment failed in ${this.state} (${why}): stock put back; refund or re-route the order`, { stateWhenFailed: this.state });
    return this.end('failed', actor, `fulfilment failed: ${why}`);
  }

  private async raise(kind: string, severity: 'medium' | 'high', summary: string, context: Record<string, unknown> = {}): Promise<void> {
    await raiseException({
      type: 'order_fulfilment',
      subject: exceptionSubjects.order(this.input.channel, this.input.orderId, kind),
      severity,
      summary: `Order ${this.input.orderId} (${this.input.channel}): ${summary}`,
      source: this.workflowId,
      orderId: this.input.orderId,
      location: this.location,
      context: { ...context, state: this.state, workflowId: this.workflowId, lines: this.lines },
    });
  }

  private async end(state: OrderState, actor: string, reason: string | undefined, extra: TransitionExtra = {}): Promise<OrderOutcome> {
    this.reason = reason;
    await this.moveTo(state, actor, reason, extra);
    return { state, ...(reason ? { reason } : {}) };
  }

  private async moveTo(to: OrderState, actor: string, reason?: string, extra: TransitionExtra = {}): Promise<void> {
    const { placed, ...details } = extra;
    const from = this.seq === 0 ? undefined : this.state;
    this.seq += 1;
    const { ownerId } = await recordOrderTransition({
      workflowId: this.workflowId,
      channel: this.input.channel,
      orderId: this.input.orderId,
      seq: this.seq,
      from,
      to,
      actor,
      reason,
      details,
      placed,
    });
    this.state = to;
    this.stateOwnerId = ownerId;
    this.publish();
  }

  private seconds(window: 'paymentWindow' | 'fulfilmentWindow'): number {
    return this.input.windows[window] * 1000;
  }

  snapshot(): OrderSnapshot {
    return {
      workflowId: this.workflowId,
      channel: this.input.channel,
      orderId: this.input.orderId,
      state: this.state,
      stateOwnerId: this.stateOwnerId,
      location: this.location,
      lines: this.lines,
      held: this.held,
      reason: this.reason,
      ignored: this.ignored,
    };
  }

  /** Keeps the Temporal UI's current details on the state and who owns it. */
  private publish(): void {
    setCurrentDetails(
      [
        `State: **${this.state}** · owned by **${this.stateOwnerId}**${this.reason ? ` · ${this.reason}` : ''}`,
        this.held.length > 0 ? `Holds: ${this.held.map((h) => `${h.quantity} × ${h.sku} (${h.status})`).join(', ')}` : 'Holds no stock.',
        'The `order` query returns the whole picture; GET /v1/orders/<orderId> adds the transitions and events.',
      ].join('\n\n'),
    );
  }
}

/** Who caused a transition: the channel for customer events, the warehouse for fulfilment events. */
function actorOf(event: OrderEvent): string {
  return event.type.startsWith('fulfilment.') ? `fulfilment:${event.channel}` : `channel:${event.channel}`;
}
