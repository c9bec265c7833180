/**
 * Killing a `tend` CLI process at a chosen moment of its work. The work starts when the process
 * opens the registry database (seen in /proc/<pid>/fd on Linux); the kill lands a random delay
 * after that, within the time the same command took when left alone, so kills fall during the
 * writes rather than during Node's start-up. Without /proc the delay counts from the spawn.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { CLI, ROOT } from '../helpers.js';

export interface CliRun {
  /** True when SIGKILL reached a live process. */
  killed: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  /** ms from spawn to the database being open (undefined: never seen open). */
  openedAtMs: number | undefined;
  /** ms from spawn to exit. */
  exitedAtMs: number;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1', TEND_ACTOR: 'crash-test' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TEND_')) env[k] = v;
  return env;
}

function hasOpen(pid: number, suffix: string): boolean {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).endsWith(suffix)) return true;
      } catch {
        // the descriptor closed meanwhile
      }
    }
  } catch {
    // the process is gone, or there is no /proc
  }
  return false;
}

export const HAS_PROC = (() => {
  try {
    readdirSync(`/proc/${process.pid}/fd`);
    return true;
  } catch {
    return false;
  }
})();

/**
 * Run `tend <args> --home <home>`; with `killAfterOpenMs` send SIGKILL that long after the process
 * opened `registry.db` (or after the spawn, with `fromSpawn`).
 */
export function runCli(
  args: string[],
  home: string,
  kill?: { afterMs: number; fromSpawn?: boolean },
  timeoutMs = 120_000,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--home', home], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let openedAtMs: number | undefined;
    let killed = false;
    let exited = false;
    const fire = (): void => {
      if (exited) return;
      killed = child.kill('SIGKILL');
    };
    const watchdog = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let poll: NodeJS.Timeout | undefined;
    if (HAS_PROC && child.pid !== undefined) {
      const pid = child.pid;
      poll = setInterval(() => {
        if (openedAtMs !== undefined || exited) return;
        if (hasOpen(pid, 'registry.db')) {
          openedAtMs = performance.now() - started;
          clearInterval(poll);
          if (kill && !kill.fromSpawn) setTimeout(fire, kill.afterMs);
        }
      }, 1);
    }
    if (kill && (kill.fromSpawn || !HAS_PROC)) setTimeout(fire, kill.afterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = true;
      clearTimeout(watchdog);
      if (poll) clearInterval(poll);
      resolve({
        killed: killed && signal === 'SIGKILL',
        code,
        stdout,
        stderr,
        openedAtMs,
        exitedAtMs: performance.now() - started,
      });
    });
  });
}
