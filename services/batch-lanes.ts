interface Waiting<I, O> {
  item: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

interface Lane<I, O> {
  queue: Waiting<I, O>[];
  running: boolean;
  /** Set while a lane with no batch running gathers what arrives in the same turn of the event loop. */
  gathering?: NodeJS.Immediate;
}

/**
 * Work gathered into batches, in lanes chosen by key. An idle lane gathers what arrives in the same
 * turn of the event loop (a burst of requests read together) and runs it as one batch at the end of
 * that turn, or at once when it fills a batch; while a batch runs, what arrives queues and becomes
 * the next. Nothing waits on a timer: a lone item runs after the turn it came in. Items of one key
 * always share a lane, so they run in the order they came.
 */
export class BatchLanes<I, O> {
  private readonly lanes: Lane<I, O>[];

  constructor(
    lanes: number,
    private readonly maxBatch: number,
    /** One output per item, in the items' order; a throw fails every item of the batch. */
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    /** Told how many items joined a queue (positive) or left one for a batch (negative). */
    private readonly queued?: (delta: number) => void,
  ) {
    this.lanes = Array.from({ length: lanes }, () => ({ queue: [], running: false }));
  }

  submit(key: string, item: I): Promise<O> {
    const lane = this.lanes[laneOf(key, this.lanes.length)];
    const output = new Promise<O>((resolve, reject) => lane.queue.push({ item, resolve, reject }));
    this.queued?.(1);
    if (!lane.running) {
      if (lane.queue.length >= this.maxBatch) this.start(lane);
      else lane.gathering ??= setImmediate(() => this.start(lane));
    }
    return output;
  }

  private start(lane: Lane<I, O>): void {
    clearImmediate(lane.gathering);
    lane.gathering = undefined;
    lane.running = true;
    void this.drain(lane);
  }

  private async drain(lane: Lane<I, O>): Promise<void> {
    let settle: (() => void) | undefined;
    while (lane.queue.length > 0) {
      const batch = lane.queue.splice(0, this.maxBatch);
      this.queued?.(-batch.length);
      const running = this.attempt(batch.map((w) => w.item)).then(
        (outputs) => () => batch.forEach((w, i) => w.resolve(outputs[i])),
        (error: unknown) => () => batch.forEach((w) => w.reject(error)),
      );
      // The last batch's callers go on after this batch has sent its first work: what they do next
      // (a whole burst of answers) would otherwise hold the event loop while that work waits to go out.
      if (settle) setImmediate(settle);
      settle = await running;
    }
    settle?.();
    lane.running = false;
  }

  /** The batch's outputs, a runner that throws before it returns a promise included. */
  private attempt(items: I[]): Promise<O[]> {
    try {
      return this.runBatch(items);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** Lanes of a process for each database (any object key), made by `create` the first time that key asks. */
export function lanesPer<K extends object, I, O>(create: (key: K) => BatchLanes<I, O>): (key: K) => BatchLanes<I, O> {
  const made = new WeakMap<K, BatchLanes<I, O>>();
  return (key) => {
    let lanes = made.get(key);
    if (!lanes) {
      lanes = create(key);
      made.set(key, lanes);
    }
    return lanes;
  };
}

/** A stable lane for a key (FNV-1a). */
function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}
