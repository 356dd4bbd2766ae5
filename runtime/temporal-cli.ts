import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** The newest tag `go install` accepts; later tags carry a `replace` directive it refuses. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
const LOCAL_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * Finds the `temporal` binary: TEMPORAL_CLI_PATH, then PATH, then `.tools/bin`; else builds it
 * with Go into `.tools/bin`. Returns undefined when there is neither a binary nor Go, and the
 * caller falls back to the SDK's download.
 */
export async function findOrBuildTemporalCli(
  log: (line: string) => void,
  cliPath = process.env.TEMPORAL_CLI_PATH,
): Promise<string | undefined> {
  if (cliPath) {
    if (!isExecutable(cliPath)) throw new Error(`TEMPORAL_CLI_PATH=${cliPath} is not an executable file`);
    return cliPath;
  }
  const found = onPath('temporal') ?? (isExecutable(path.join(LOCAL_BIN, 'temporal')) ? path.join(LOCAL_BIN, 'temporal') : undefined);
  if (found) return found;
  const go = onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) return undefined;
  await buildWithGo(go, log);
  return path.join(LOCAL_BIN, 'temporal');
}

async function buildWithGo(go: string, log: (line: string) => void): Promise<void> {
  mkdirSync(LOCAL_BIN, { recursive: true });
  const { stdout } = await promisify(execFile)(go, ['version']);
  log(`building the Temporal CLI (${TEMPORAL_CLI_MODULE}) with ${stdout.trim()} into .tools/bin — a few minutes the first time`);
  const started = Date.now();
  const ticker = setInterval(() => log(`  still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)}s)…`), 30_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', TEMPORAL_CLI_MODULE], {
        env: { ...process.env, GOBIN: LOCAL_BIN },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`go install ${TEMPORAL_CLI_MODULE} failed (exit ${code}):\n${output.slice(-4000)}`)),
      );
    });
  } finally {
    clearInterval(ticker);
  }
  log(`built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)}s`);
}
