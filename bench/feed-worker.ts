import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { connect } from '../db/connection';
import { createWorker } from '../workers/worker';

/**
 * The feed benchmark's worker, in a process of its own so its memory is measured alone. Built like
 * `stockflow worker` (cli/worker.ts): one pool of 20, the workflow bundle built beforehand when given
 * (BENCH_WORKFLOW_BUNDLE), else bundled in-process at start. Configured through the environment by bench/feeds.ts; talks to it over IPC: sends `ready` once
 * polling, `stopped` when drained; stops on a `stop` message or when the parent goes away.
 */
export type FromWorker = { type: 'ready' } | { type: 'stopped' } | { type: 'failed'; error: string };
export type ToWorker = { type: 'stop' };

async function main(): Promise<void> {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: this process is started by bench/feeds.ts`);
    return value;
  };
  const address = env('BENCH_TEMPORAL_ADDRESS');
  const namespace = env('BENCH_TEMPORAL_NAMESPACE');
  const taskQueue = env('BENCH_TASK_QUEUE');
  const bundlePath = process.env.BENCH_WORKFLOW_BUNDLE;
  const send = (message: FromWorker) => process.send?.(message);

  // Refusals and retries are not expected in the benchmark; anything logged at ERROR is worth seeing.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const database = connect(env('BENCH_DATABASE_URL'), { max: 20 });
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection, namespace });
  const worker = await createWorker({
    connection,
    namespace,
    taskQueue,
    db: database.db,
    notifier: { namespace, log: () => undefined },
    temporal: { client, taskQueue },
    fulfilment: { log: () => undefined },
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
    await connection.close();
    await clientConnection.close();
    await database.close();
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
