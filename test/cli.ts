import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const CLI = path.join(__dirname, '..', 'cli', 'main.ts');

/** Runs the `stockflow` command against an API as the holder of `token`; a failing command answers with its exit code instead of throwing. */
export function runStockflow(baseUrl: string, token: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args, '--api', baseUrl], { env: { ...process.env, STOCKFLOW_API_TOKEN: token } }).then(
    (done) => ({ code: 0, ...done }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );
}
