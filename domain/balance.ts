import type { CountStatus, OperationOf } from '../schemas/stock';

/** The most one operation may move, set or count, in base units (the schemas' `.max`). */
export const MOVEMENT_LIMIT = 1_000_000_000;
/**
 * What one bucket of a balance (and one ledger movement's change of it) can hold: the range of
 * the Postgres `integer` columns they are stored in. Receipts beyond it are refused, never
 * wrapped or failed on by the database.
 */
export const BALANCE_MAX = 2_147_483_647;
export const BALANCE_MIN = -2_147_483_648;

export type Bucket = 'onHand' | 'reserved' | 'committed' | 'incoming';
export type Buckets = Record<Bucket, number> & { countStatus: CountStatus };
export type Deltas = Partial<Record<Bucket, number>>;

const BUCKETS: readonly Bucket[] = ['onHand', 'reserved', 'committed', 'incoming'];
const LABEL: Record<Bucket | 'available', string> = {
  onHand: 'on hand',
  reserved: 'reserved',
  committed: 'committed',
  incoming: 'incoming',
  available: 'available',
};

/** Available as the database derives it (stock_balances.available): nothing while a count blocks the SKU. */
export function availableOf(b: Buckets): number {
  return b.countStatus === 'blocked' ? 0 : b.onHand - b.reserved - b.committed;
}

export function withDeltas(b: Buckets, d: Deltas): Buckets {
  return {
    onHand: b.onHand + (d.onHand ?? 0),
    reserved: b.reserved + (d.reserved ?? 0),
    committed: b.committed + (d.committed ?? 0),
    incoming: b.incoming + (d.incoming ?? 0),
    countStatus: b.countStatus,
  };
}

export function changesSomething(d: Deltas): boolean {
  return BUCKETS.some((bucket) => (d[bucket] ?? 0) !== 0);
}

/** Operations that move a given amount: their change does not depend on what the balance holds. */
export type MovingOperation = OperationOf<'receive' | 'issue' | 'reserve' | 'adjust'>;
/** Operations that replace a figure: their change is the difference from what the balance holds. */
export type SettingOperation = OperationOf<'set_on_hand' | 'set_incoming' | 'cycle_count'>;

export function movementOf(op: MovingOperation): Deltas {
  switch (op.kind) {
    case 'receive':
      return { onHand: op.quantity };
    case 'issue':
      return { onHand: -op.quantity };
    case 'reserve':
      return { reserved: op.quantity };
    case 'adjust':
      return { onHand: op.delta };
  }
}

export function settingOf(op: SettingOperation, current: Buckets): Deltas {
  switch (op.kind) {
    case 'set_on_hand':
      return { onHand: op.quantity - current.onHand };
    case 'set_incoming':
      return { incoming: op.quantity - current.incoming };
    case 'cycle_count':
      return { onHand: op.counted - current.onHand };
  }
}

/**
 * Purchase order operations: incoming changes by an amount, and what leaves it is at most what it
 * holds, so an absolute figure set meanwhile (set_incoming) is never driven below zero.
 */
export type IncomingOperation = OperationOf<'expect_incoming' | 'receive_incoming' | 'cancel_incoming'>;

export function incomingChangeOf(op: IncomingOperation, current: Pick<Buckets, 'incoming'>): Deltas {
  const leaving = (units: number) => 0 - Math.min(units, Math.max(0, current.incoming));
  switch (op.kind) {
    case 'expect_incoming':
      return { incoming: op.quantity };
    case 'receive_incoming':
      return { onHand: op.quantity, incoming: leaving(op.expected) };
    case 'cancel_incoming':
      return { incoming: leaving(op.quantity) };
  }
}

export function deltasOf(op: MovingOperation | SettingOperation | IncomingOperation, current: Buckets): Deltas {
  switch (op.kind) {
    case 'set_on_hand':
    case 'set_incoming':
    case 'cycle_count':
      return settingOf(op, current);
    case 'expect_incoming':
    case 'receive_incoming':
    case 'cancel_incoming':
      return incomingChangeOf(op, current);
    default:
      return movementOf(op);
  }
}

/** A figure that would leave its range: a bucket (or available) after the change, or the change itself. */
export interface RangeBreach {
  bucket: Bucket | 'available';
  /** True when the ledger movement's change of the bucket is what does not fit. */
  change: boolean;
  value: number;
}

/** The first figure the change would take out of range, if any. */
export function rangeBreach(before: Buckets, d: Deltas): RangeBreach | undefined {
  const outside = (value: number) => value > BALANCE_MAX || value < BALANCE_MIN;
  for (const bucket of BUCKETS) {
    const change = d[bucket] ?? 0;
    if (outside(change)) return { bucket, change: true, value: change };
  }
  const after = withDeltas(before, d);
  for (const bucket of BUCKETS) if (outside(after[bucket])) return { bucket, change: false, value: after[bucket] };
  const available = availableOf(after);
  return outside(available) ? { bucket: 'available', change: false, value: available } : undefined;
}

const units = (n: number) => n.toLocaleString('en-US');

/** Says which figure would leave which limit, for a refusal; `where` names the SKU and location. */
export function describeBreach(breach: RangeBreach, where: string): string {
  const label = LABEL[breach.bucket];
  if (breach.change) {
    return `the change of ${label} of ${where} would be ${units(breach.value)}, more than one ledger movement can record (±${units(BALANCE_MAX)})`;
  }
  return breach.value > BALANCE_MAX
    ? `${label} of ${where} would be ${units(breach.value)}, above ${units(BALANCE_MAX)}, the most a stock balance can hold`
    : `${label} of ${where} would be ${units(breach.value)}, below ${units(BALANCE_MIN)}, the least a stock balance can hold`;
}

/** The reason code an operation's movement carries: an adjustment's own, or the one its kind implies. */
export function movementReason(op: MovingOperation | SettingOperation | IncomingOperation): string | undefined {
  switch (op.kind) {
    case 'adjust':
      return op.reasonCode;
    case 'cycle_count':
      return 'count_variance';
    case 'set_on_hand':
      // On hand is set from outside by a supplier's figure (a feed line, or a held one approved) or an import's opening balance.
      return op.reasonCode ?? 'supplier_feed';
    default:
      return undefined;
  }
}
