import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../runtime/config';
import { startStack } from '../runtime/stack';

/** `stockflow start`: the whole stack in the foreground until Ctrl-C. */
export async function startCommand(): Promise<void> {
  const config = loadConfig();
  const log = (line: string) => console.log(`[stockflow] ${line}`);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = await startStack(config, log);
  console.log(
    [
      '',
      'Stockflow is running.',
      `  API            ${stack.apiUrl}   (OpenAPI: ${stack.apiUrl}/openapi.json, health: ${stack.apiUrl}/healthz)`,
      `  Temporal       ${stack.temporalAddress}`,
      `  Temporal UI    ${stack.temporalUiUrl ?? '(not started here)'}`,
      `  Task queue     ${config.STOCKFLOW_TASK_QUEUE}`,
      '',
      'Try it: `npm run demo` in another terminal, then open the Temporal UI. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    stack.stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // `npm start` runs us under npm and a shell, which do not always pass SIGTERM on; if the
  // process that started us goes away, stop too rather than leave servers running.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown('parent exited');
  }, 1000).unref();
}
