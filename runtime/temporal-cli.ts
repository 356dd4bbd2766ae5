import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { removeDeadStaging } from './processes';

/** The newest tag `go install` accepts; later tags carry a `replace` directive it refuses. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
const TEMPORAL_CLI_VERSION = TEMPORAL_CLI_MODULE.split('@')[1];

export const PROJECT_ROOT = path.resolve(__dirname, '..');
const LOCAL_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');
/** Builds in progress (or killed mid-way) live in `<dir>/.build-<pid>-<random>` until renamed into place. */
const STAGING_PREFIX = '.build-';

/** Where the CLI is looked for and built; the process's own by default, a test's scratch folders in tests. */
export interface CliPlaces {
  env: NodeJS.ProcessEnv;
  /** The clone's own folder, used when there is no writable per-user cache. */
  localBin: string;
}

const DEFAULT_PLACES: CliPlaces = { env: process.env, localBin: LOCAL_BIN };

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * The per-user cache of built CLIs, `${XDG_CACHE_HOME:-$HOME/.cache}/stockflow/temporal-cli/<version>`,
 * shared by every clone on the machine; undefined without a home.
 */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  const base = xdg ?? (env.HOME ? path.join(env.HOME, '.cache') : undefined);
  return base && path.join(base, 'stockflow', 'temporal-cli', TEMPORAL_CLI_VERSION);
}

function isWritableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the `temporal` binary: `cliPath` (TEMPORAL_CLI_PATH by default), then PATH, then
 * `.tools/bin`, then the per-user cache; else builds it with Go into the cache (or `.tools/bin`
 * without a usable home). Returns undefined when there is neither a binary nor Go, and the caller
 * falls back to the SDK's download.
 */
export async function findOrBuildTemporalCli(
  log: (line: string) => void,
  { cliPath, places = DEFAULT_PLACES }: { cliPath?: string; places?: CliPlaces } = { cliPath: process.env.TEMPORAL_CLI_PATH },
): Promise<string | undefined> {
  if (cliPath) {
    if (!isExecutable(cliPath)) throw new Error(`TEMPORAL_CLI_PATH=${cliPath} is not an executable file`);
    return cliPath;
  }
  const cacheDir = temporalCliCacheDir(places.env);
  const candidates = [onPath('temporal', places.env), path.join(places.localBin, 'temporal'), cacheDir && path.join(cacheDir, 'temporal')];
  const found = candidates.find((file): file is string => file !== undefined && isExecutable(file));
  if (found) return found;
  const go = onPath('go', places.env) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) return undefined;
  return buildWithGo(go, cacheDir && isWritableDir(cacheDir) ? cacheDir : places.localBin, places.env, log);
}

/**
 * Builds the CLI into a staging folder inside `targetDir`, then renames the binary into place: the
 * rename is atomic, so a concurrent build or one killed half-way never leaves a broken binary where
 * the look-up finds it. Staging folders of builds that died are removed.
 */
async function buildWithGo(go: string, targetDir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<string> {
  const { stdout } = await promisify(execFile)(go, ['version'], { env });
  mkdirSync(targetDir, { recursive: true });
  removeDeadStaging(targetDir, STAGING_PREFIX);
  const staging = mkdtempSync(path.join(targetDir, `${STAGING_PREFIX}${process.pid}-`));
  log(`building the Temporal CLI (${TEMPORAL_CLI_MODULE}) with ${stdout.trim()} into ${targetDir}: several minutes, once per machine and user`);
  const started = Date.now();
  const ticker = setInterval(() => log(`  still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)}s)…`), 30_000);
  try {
    await goInstall(go, { ...env, ...goDirsWithoutHome(env), GOBIN: staging });
    const binary = path.join(targetDir, 'temporal');
    renameSync(path.join(staging, 'temporal'), binary);
    log(`built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)}s: ${binary}`);
    return binary;
  } finally {
    clearInterval(ticker);
    rmSync(staging, { recursive: true, force: true });
  }
}

function goInstall(go: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', TEMPORAL_CLI_MODULE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`go install ${TEMPORAL_CLI_MODULE} failed (exit ${code}):\n${output}`))));
  });
}

/** Go keeps its module and build caches under $HOME; without one, they go under `.tools` beside the clone. */
function goDirsWithoutHome(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.HOME) return {};
  return { GOPATH: env.GOPATH ?? path.join(PROJECT_ROOT, '.tools', 'go'), GOCACHE: env.GOCACHE ?? path.join(PROJECT_ROOT, '.tools', 'go-build') };
}
