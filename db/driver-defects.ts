/**
 * postgres.js 3.4.9 has a known defect (porsager/postgres#1154, #1208): when Postgres drops a
 * connection while a small write is queued, a timer writes to the closed socket and throws an
 * uncatchable TypeError that would take the whole worker down. Nothing is lost when it happens:
 * the dropped query's activity times out and Temporal retries it. So this one error is logged and
 * survived; every other uncaught exception still ends the process as Node would.
 */
let installed = false;

export function isClosedSocketWriteDefect(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    error.message === "Cannot read properties of null (reading 'write')" &&
    /postgres[\\/](?:cjs[\\/])?src[\\/]connection\.js/.test(error.stack ?? '') &&
    /nextWrite/.test(error.stack ?? '')
  );
}

export function surviveClosedSocketWrites(log: (line: string) => void = (line) => console.warn(line)): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (error, origin) => {
    if (isClosedSocketWriteDefect(error)) {
      log('[stockflow] a Postgres connection closed under a queued write (postgres.js defect #1208); the affected work will be retried');
      return;
    }
    // Where something else (a test runner) also listens, it decides; alone, behave as Node would.
    if (process.listenerCount('uncaughtException') > 1) return;
    console.error(`${origin}:`, error);
    process.exit(1);
  });
}
