import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { stopLeftover, stopProcess } from './processes';
import { isPortOpen, waitFor } from './wait';

export interface TemporalServer {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

const CLI_TYPE_NAMES: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`]);
}

export interface DevServerOptions {
  cli: string;
  port: number;
  uiPort: number;
  /** SQLite file for durable state; omit for an in-memory server (tests). */
  dbFile?: string;
  headless?: boolean;
  namespace?: string;
  log?: (line: string) => void;
}

/** Starts `temporal server start-dev` with Stockflow's search attributes and waits until it answers. */
export async function startTemporalDevServer(options: DevServerOptions): Promise<TemporalServer> {
  const address = `127.0.0.1:${options.port}`;
  const pidFile = options.dbFile ? `${options.dbFile}.pid` : undefined;
  if (pidFile) await stopLeftover(pidFile, 'temporal', options.log);
  if (await isPortOpen(options.port)) {
    throw new Error(
      `port ${options.port} is already in use: set TEMPORAL_ADDRESS=${address} to use the server there, or TEMPORAL_PORT to pick another port`,
    );
  }
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (options.dbFile) {
    // Postgres may not have created the data folder yet: the two start side by side.
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  args.push(...searchAttributeFlags());

  const child = spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (pidFile && child.pid) writeFileSync(pidFile, String(child.pid));
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  try {
    await waitFor(
      `the Temporal dev server on ${address}`,
      async () => {
        if (exited) throw new Error(`temporal server exited:\n${output}`);
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } finally {
          await connection.close();
        }
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  options.log?.(`Temporal dev server listening on ${address}`);
  return {
    address,
    uiUrl: options.headless ? undefined : `http://127.0.0.1:${options.uiPort}`,
    stop: async () => {
      await stopProcess(child);
      if (pidFile) rmSync(pidFile, { force: true });
    },
  };
}
