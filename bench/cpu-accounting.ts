/**
 * Who used the CPU during a measured run: the server under test, the bench's own children (wrk or
 * the gRPC load generator), the bench itself, and everything else on the machine. Other helpers'
 * jobs come and go on a shared 2-core machine; a run during which they took a core measures them,
 * not tend, so the protocols section measures this and repeats such runs. Linux only (/proc).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

/** A run during which other processes used more than this many cores is measured again. */
export const OTHER_CORES_LIMIT = 0.15;
/** Attempts in all per run, the first included. */
export const MAX_ATTEMPTS = 3;

let clockTicksPerSecond: number | undefined;

function ticksPerSecond(): number {
  clockTicksPerSecond ??=
    Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return clockTicksPerSecond;
}

/** The fields of /proc/<pid>/stat after the command name (which is in parentheses and may hold spaces). */
function statFields(pid: number | 'self'): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process (all its threads) has used so far; null where /proc is absent. */
export function processCpuSeconds(pid: number): number | null {
  const f = statFields(pid);
  if (f === null) return null;
  // utime and stime are fields 14 and 15 of the file, 11 and 12 here.
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(ticks) ? ticks / ticksPerSecond() : null;
}

/** CPU seconds of this process's children that have exited and been reaped (wrk, the gRPC load generator). */
function reapedChildrenCpuSeconds(): number | null {
  const f = statFields('self');
  if (f === null) return null;
  const ticks = Number(f[13]) + Number(f[14]);
  return Number.isFinite(ticks) ? ticks / ticksPerSecond() : null;
}

function machineBusySeconds(): number {
  let ms = 0;
  for (const c of cpus()) ms += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return ms / 1000;
}

export interface CpuShares {
  wallSeconds: number;
  /** Cores used on average over the run by each party. */
  serverCores: number;
  /** The bench's children that ended during the run (its load generator). */
  clientCores: number;
  /** The rest of the machine: neither the server, nor the bench, nor its children. */
  otherCores: number;
}

/**
 * Start accounting; call the returned function when the run (and its load generator) has ended.
 * `serverPid` null: no server (an in-process measurement), its share is 0.
 */
export function startCpuAccounting(serverPid: number | null): () => CpuShares | null {
  const wall = performance.now();
  const machine = machineBusySeconds();
  const serverCpu = (): number | null => (serverPid === null ? 0 : processCpuSeconds(serverPid));
  const server = serverCpu();
  const children = reapedChildrenCpuSeconds();
  const self = process.cpuUsage();
  return () => {
    const wallSeconds = (performance.now() - wall) / 1000;
    const serverNow = serverCpu();
    const childrenNow = reapedChildrenCpuSeconds();
    if (
      server === null ||
      serverNow === null ||
      children === null ||
      childrenNow === null ||
      wallSeconds <= 0
    )
      return null;
    const selfUsed = process.cpuUsage(self);
    const serverSeconds = serverNow - server;
    const clientSeconds = childrenNow - children;
    const other =
      machineBusySeconds() -
      machine -
      serverSeconds -
      clientSeconds -
      (selfUsed.user + selfUsed.system) / 1e6;
    return {
      wallSeconds,
      serverCores: serverSeconds / wallSeconds,
      clientCores: clientSeconds / wallSeconds,
      // Tick rounding of the three readings can make an idle rest slightly negative.
      otherCores: Math.max(0, other / wallSeconds),
    };
  };
}

export interface UndisturbedPolicy {
  serverPid: number | null;
  /** Cores the rest of the machine may use during a run before the run is repeated. */
  otherCoresLimit: number;
  /** Attempts in all, the first included; the last one is kept whatever it shows. */
  maxAttempts: number;
  log: (line: string) => void;
}

export interface Undisturbed<T> {
  value: T;
  shares: CpuShares | null;
  attempts: number;
  /** The kept attempt still had other processes above the limit. */
  disturbed: boolean;
}

/** Run `measure`, again while other processes took more than the limit (up to the attempts allowed). */
export async function measureUndisturbed<T>(
  label: string,
  policy: UndisturbedPolicy,
  measure: () => Promise<T>,
): Promise<Undisturbed<T>> {
  for (let attempt = 1; ; attempt++) {
    const stop = startCpuAccounting(policy.serverPid);
    const value = await measure();
    const shares = stop();
    const disturbed = shares !== null && shares.otherCores > policy.otherCoresLimit;
    if (!disturbed || attempt >= policy.maxAttempts) return { value, shares, attempts: attempt, disturbed };
    policy.log(
      `  ${label}: other processes used ${shares.otherCores.toFixed(2)} cores meanwhile — measuring again`,
    );
  }
}
