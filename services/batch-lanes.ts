interface Waiting<I, O> {
  item: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

interface Lane<I, O> {
  queue: Waiting<I, O>[];
  running: boolean;
}

/**
 * Work gathered into batches, in lanes chosen by key: while a lane's batch runs, what arrives for
 * that lane queues, and becomes its next batch. Nothing waits on a timer: a lone item runs at once,
 * and a burst is gathered behind the batch already running. Items of one key always share a lane,
 * so they run in the order they came.
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
      lane.running = true;
      void this.drain(lane);
    }
    return output;
  }

  private async drain(lane: Lane<I, O>): Promise<void> {
    while (lane.queue.length > 0) {
      const batch = lane.queue.splice(0, this.maxBatch);
      this.queued?.(-batch.length);
      try {
        const outputs = await this.runBatch(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(outputs[i]));
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    lane.running = false;
  }
}

/** A stable lane for a key (FNV-1a). */
function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}
