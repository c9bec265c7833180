/** What the benchmarks ran on: the header of BENCHMARKS.md. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { TEND_VERSION } from '../core/version.js';
import { REPO_ROOT } from './servers.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  onnxruntime: string;
  tend: string;
  wrk: string;
  /** 1-minute load average when the bench started: above ~0.5 something else was running. */
  loadAverageAtStart: number;
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
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Describe this machine and the software versions in play. */
export function describeMachine(wrkVersion: string): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    tend: TEND_VERSION,
    wrk: wrkVersion,
    loadAverageAtStart: loadavg()[0] ?? 0,
  };
}
