import { readFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { composeApp, configuredEndpoints } from '../runtime/composition';
import { loadConfig } from '../runtime/config';
import { createWorker } from '../workers/worker';

/**
 * The feed benchmark's worker, in a process of its own so its memory is measured alone (the
 * flash-sale benchmark runs its order workflows in one too, apart from the API it measures). Composed
 * and configured like `stockflow worker` (cli/worker.ts: DATABASE_URL, TEMPORAL_ADDRESS, one pool of
 * 20), except that it takes a workflow bundle built beforehand when given (BENCH_WORKFLOW_BUNDLE),
 * else bundles in-process at start. Talks to bench/feeds.ts over IPC: sends `ready` once polling,
 * `stopped` when drained; stops on a `stop` message or when the parent goes away.
 */
export type FromWorker = { type: 'ready' } | { type: 'stopped' } | { type: 'failed'; error: string };
export type ToWorker = { type: 'stop' };

async function main(): Promise<void> {
  const config = loadConfig();
  const bundlePath = process.env.BENCH_WORKFLOW_BUNDLE;
  const send = (message: FromWorker) => process.send?.(message);

  // Refusals and retries are not expected in the benchmark; anything logged at ERROR is worth seeing.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const app = await composeApp(config, configuredEndpoints(config, 'the feed benchmark worker'), { log: () => undefined });
  const worker = await createWorker({
    ...(await app.workerOptions()),
    // Given a bundle built beforehand (BENCH_WORKFLOW_BUNDLE), the worker skips bundling at start.
    ...(bundlePath ? { workflowBundle: { code: readFileSync(bundlePath, 'utf8') } } : {}),
  });
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stop') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const running = worker.run();
  send({ type: 'ready' });
  try {
    await running;
  } finally {
    await app.close();
  }
  send({ type: 'stopped' });
}

main().then(
  () => {
    process.disconnect?.();
  },
  (error: unknown) => {
    console.error('[feed-worker]', error);
    process.send?.({ type: 'failed', error: String(error) } satisfies FromWorker);
    process.exitCode = 1;
    process.disconnect?.();
  },
);
