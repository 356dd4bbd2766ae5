import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerPlugin, type WorkflowBundle, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { currentTracing, OTEL_WORKFLOW_INTERCEPTORS, tracingConfigured } from '../runtime/tracing';

export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');

/**
 * Bundles the workflow code in a short-lived child process and returns the file it wrote. A
 * long-running worker then never holds webpack's few hundred megabytes (see bench/feeds.ts).
 */
export async function bundleWorkflowsOutOfProcess(): Promise<{ codePath: string }> {
  const codePath = path.join(os.tmpdir(), `stockflow-workflows-${process.pid}.js`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bundle.ts'), codePath], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bundling the workflow code failed (exit ${code})`))));
  });
  return { codePath };
}

/** Bundles the workflow code once; every worker in the process reuses it. With tracing on, the workflow side of it is bundled in. */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietBundlerLogger,
    ...(tracingConfigured() ? { workflowInterceptorModules: [OTEL_WORKFLOW_INTERCEPTORS] } : {}),
  });
}

export interface WorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  workflowBundle?: WorkflowBundleOption;
  identity?: string;
  /** Besides the process's tracing plugin, when tracing is on. */
  plugins?: WorkerPlugin[];
}

/**
 * A Stockflow worker: all workflows and activities on one task queue. Scale out by running more
 * of them (more processes, more machines) against the same Temporal namespace and Postgres.
 */
export function createWorker(options: WorkerOptions): Promise<Worker> {
  const tracing = currentTracing();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(options),
    plugins: [...(options.plugins ?? []), ...(tracing ? [tracing.plugin] : [])],
    shutdownGraceTime: '10 seconds',
  });
}

export const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
  log: () => undefined,
};
