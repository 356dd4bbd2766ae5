import { DefaultLogger } from '@temporalio/worker';
import { loadConfig } from '../runtime/config';
import type { EnvConfig } from '../schemas/config';
import { startStack, type Stack } from '../runtime/stack';
import { installRuntime } from '../runtime/telemetry';

/** `stockflow start`: the whole stack in the foreground until Ctrl-C. */
export async function startCommand(): Promise<void> {
  const config = loadConfig();
  const log = (line: string) => console.log(`[stockflow] ${line}`);
  // These handlers, not the SDK's, decide how the process stops: everything it started goes too.
  await installRuntime({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  let stack: Stack | undefined;
  let stopping = false;
  const stopAndExit = (running: Stack) =>
    running.stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log(`${reason}: stopping`);
    // Asked to stop while still starting: start-up finishes (or fails and cleans up), then stops.
    if (stack) void stopAndExit(stack);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // `npm start` runs us under npm and a shell, which do not always pass SIGTERM on; if the
  // process that started us goes away, stop too rather than leave servers running.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown('parent exited');
  }, 1000).unref();

  stack = await startStack(config, log);
  if (stopping) return void stopAndExit(stack);
  console.log(
    [
      '',
      'Stockflow is running.',
      `  API            ${stack.apiUrl}   (OpenAPI: ${stack.apiUrl}/openapi.json, health: ${stack.apiUrl}/healthz)`,
      `  Temporal       ${stack.temporalAddress}`,
      `  Temporal UI    ${stack.temporalUiUrl ?? '(not started here)'}`,
      `  Access         ${accessSummary(config)}`,
      `  Task queue     ${config.STOCKFLOW_TASK_QUEUE}`,
      `  More workers   ${moreWorkersCommand(config, stack)}`,
      '',
      'Try it: `npm run demo` in another terminal, then open the Temporal UI. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

/** How to join another worker to this stack: the variables it needs that the environment does not already set. */
function moreWorkersCommand(config: EnvConfig, stack: Stack): string {
  const databaseUrl = config.DATABASE_URL ? '' : `DATABASE_URL=${stack.databaseUrl} `;
  const temporalAddress = config.TEMPORAL_ADDRESS ? '' : `TEMPORAL_ADDRESS=${stack.temporalAddress} `;
  return `${databaseUrl}${temporalAddress}npm run worker`;
}

/** How callers are identified, so an API left open is never a surprise. */
function accessSummary(config: EnvConfig): string {
  const ways = [
    config.STOCKFLOW_API_TOKEN ? 'bootstrap token' : undefined,
    config.STOCKFLOW_OIDC_ISSUER ? `OIDC (${config.STOCKFLOW_OIDC_ISSUER})` : undefined,
    config.STOCKFLOW_SOURCE_SECRETS_FILE ? 'per-source secrets' : undefined,
    config.STOCKFLOW_WEBHOOK_SECRET ? 'fallback webhook secret' : undefined,
  ].filter(Boolean);
  const decisions = `UI decisions ${config.STOCKFLOW_UI_DECISIONS === 'allow' ? 'allowed' : 'refused'}`;
  if (ways.length === 0) return `open until the first user is added (set STOCKFLOW_API_TOKEN, then \`stockflow users add\`); ${decisions}`;
  return `${ways.join(', ')}; stored users' tokens; ${decisions}`;
}
