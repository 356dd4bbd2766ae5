import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { stopProcess } from '../../runtime/processes';
import { PROJECT_ROOT } from '../../runtime/temporal-cli';
import { waitFor } from '../../runtime/wait';

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker printed, for a failing test's message. */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * A real `stockflow worker` process, as an operator would run one, so a test can kill it with
 * SIGKILL (no shutdown, no goodbye) in the middle of its work.
 */
export async function spawnWorker(env: { temporalAddress: string; databaseUrl: string; taskQueue: string }): Promise<WorkerProcess> {
  // The same command line as `npm run worker`.
  const child = spawn(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'main.ts'), 'worker'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: env.temporalAddress, DATABASE_URL: env.databaseUrl, STOCKFLOW_TASK_QUEUE: env.taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  await waitFor(
    'the worker process to poll',
    async () => {
      if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}:\n${output}`);
      return output.includes('worker polling') ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  return {
    child,
    output: () => output,
    kill: (signal) => stopProcess(child, { signal, graceMs: 15_000 }),
  };
}
