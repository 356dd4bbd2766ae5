/**
 * The rules of a purchase order line: when it is due, how much may still arrive, and what a
 * receipt or a close does to incoming. Pure: the database layer and the workflow apply them.
 */

const DAY_MS = 86_400_000;

/** When the goods are due: the day the order was placed plus the supplier's lead time. */
export function expectedAt(placedAt: Date, leadTimeDays: number): Date {
  return new Date(placedAt.getTime() + leadTimeDays * DAY_MS);
}

/** When an order not yet received in full is late: its expected date plus the grace. */
export function lateAt(expected: Date, graceSeconds: number): Date {
  return new Date(expected.getTime() + graceSeconds * 1000);
}

/** Units of a line still to come; an over-receipt leaves none, never a negative remainder. */
export function remainingOf(line: { quantity: number; received: number }): number {
  return Math.max(0, line.quantity - line.received);
}

/**
 * The most a line may have received in all: the ordered quantity plus the tolerance, in whole
 * units (10 ordered at 10 %: 11). The small epsilon keeps 10 × 1.1 from being 10.999….
 */
export function receiptAllowance(ordered: number, tolerance: number): number {
  return Math.floor(ordered * (1 + tolerance) + 1e-9);
}

export interface LineReceipt {
  /** Units to on hand. */
  quantity: number;
  /** Units of them that leave incoming: what of the line was still expected. */
  fromIncoming: number;
  /** The line's received total after this receipt. */
  received: number;
}

/** What receiving `quantity` does to a line, or why it exceeds the tolerance. */
export function receiveOnLine(line: { quantity: number; received: number }, quantity: number, tolerance: number): LineReceipt | { over: { allowance: number; total: number } } {
  const total = line.received + quantity;
  const allowance = receiptAllowance(line.quantity, tolerance);
  if (total > allowance) return { over: { allowance, total } };
  return { quantity, fromIncoming: Math.min(quantity, remainingOf(line)), received: total };
}

/** A line is received in full once as much arrived as was ordered. */
export function isFullyReceived(lines: readonly { quantity: number; received: number }[]): boolean {
  return lines.every((l) => remainingOf(l) === 0);
}
