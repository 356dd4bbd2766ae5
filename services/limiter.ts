/** Runs at most `limit` tasks at once; the rest wait their turn, first come first served. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly limit: number) {}

  run<T>(task: () => Promise<T>): Promise<T> {
    const done = this.runInTurn(task);
    const tracked = done.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return done;
  }

  /** Resolves once every task handed over so far has finished (a graceful shutdown waits for them). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  private async runInTurn<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}
