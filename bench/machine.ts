/** What the benchmarks ran on: the header of BENCHMARKS.md. */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { TEND_VERSION } from '../src/core/version.js';
import { REPO_ROOT } from './servers.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  onnxruntime: string;
  tend: string;
  wrk: string;
  /** Cores kept busy by other processes in the 2 s before the bench started (0 = idle). */
  busyCoresAtStart: number;
  /** The int8 dot-product extensions the CPU has (onnxruntime's u8s8 kernels use them). */
  int8Extensions: string;
}

function int8Extensions(): string {
  try {
    const flags = /^flags\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
    const have = ['avx512_vnni', 'avx_vnni', 'amx_int8', 'avx512bw', 'avx2'].filter((f) => flags.includes(f));
    const vnni = have.some((f) => f.includes('vnni'));
    return `${vnni ? 'VNNI (' : 'no VNNI ('}${have.join(', ') || 'none of avx2/avx512bw'})`;
  } catch {
    return 'unknown (no /proc/cpuinfo)';
  }
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // not Linux: fall through to what Node knows
  }
  return cpus()[0]?.model ?? 'unknown';
}

function packageVersion(name: string): string {
  try {
    // Read, not imported: only src/runtime may load onnxruntime-node.
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function busyMs(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq;
    busy += t;
    total += t + c.times.idle;
  }
  return { busy, total };
}

/** How many cores other processes keep busy, measured over `ms` (the load average lags by minutes). */
export async function measureBusyCores(ms = 2000): Promise<number> {
  const a = busyMs();
  await new Promise((r) => setTimeout(r, ms));
  const b = busyMs();
  const cores = cpus().length;
  return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * cores : 0;
}

/** Describe this machine and the software versions in play. */
export function describeMachine(wrkVersion: string, busyCoresAtStart: number): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    tend: TEND_VERSION,
    wrk: wrkVersion,
    busyCoresAtStart,
    int8Extensions: int8Extensions(),
  };
}
