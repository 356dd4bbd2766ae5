import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './wait';

/** Sends `signal`, then SIGKILL if the child has not exited within the grace period. Safe to call twice. */
export async function stopProcess(child: ChildProcess, { signal = 'SIGTERM', graceMs = 10_000 }: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * Stops a server that an earlier run started and could not stop (it was killed outright), found
 * through the pid file that run wrote. Only a process whose command line names `expected` is touched.
 */
export async function stopLeftover(pidFile: string, expected: string, log?: (line: string) => void, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && commandLine(pid).includes(expected)) {
    log?.(`stopping ${expected} (pid ${pid}) left running by an earlier start`);
    process.kill(pid, signal);
    await waitFor(`pid ${pid} to exit`, async () => (isAlive(pid) ? undefined : true), { timeoutMs: 30_000 });
  }
}

/**
 * Removes the staging folders (`<prefix><pid>-…` in `dir`) of work whose process has died: a build
 * or copy killed half-way. Those of live processes, this one's included, are left alone.
 */
export function removeDeadStaging(dir: string, prefix: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || !isAlive(pid)) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}
