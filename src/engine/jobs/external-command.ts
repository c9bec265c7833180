/**
 * tend's external command contract, shared by `tend train --command` and `tend tune --command`: the
 * command runs through /bin/sh in its own process group with TEND_PARAMS (JSON), TEND_OUTPUT_DIR (an
 * empty folder), TEND_TRIAL under tune, and TEND_DATA / TEND_TARGET when given; it may write
 * model.onnx and metrics.json (a flat object of numbers) to TEND_OUTPUT_DIR, and print
 * `tend:step=<n> tend:metric=<value>` lines (intermediate values; a bare `tend:metric=<value>` takes
 * the next step). A caller may stop it at any step (pruning): its process group is killed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const STEP_LINE = /tend:step=(\d+)\s+tend:metric=(\S+)/;
const METRIC_LINE = /tend:metric=(\S+)/;
const STDERR_TAIL_CHARS = 2000;

export interface ContractCommand {
  command: string;
  /** Emptied, then made: the command's TEND_OUTPUT_DIR. */
  outputDir: string;
  params: Record<string, unknown>;
  trial?: number;
  data?: string;
  target?: string;
  env?: Record<string, string>;
  /** Each intermediate value as printed; return true to stop the command there. */
  onStep?: (step: number, value: number) => boolean;
}

export interface ContractResult {
  /** The step the caller stopped the command at, or null when it ran to its end. */
  stoppedAt: number | null;
  /** metrics.json's numbers; null when the command wrote none. */
  metrics: Record<string, number> | null;
  /** Why metrics.json could not be read as a flat object of numbers (null when fine or absent). */
  metricsError: string | null;
  /** The intermediate values printed, in order. */
  steps: [number, number][];
}

/** metrics.json text as a flat object of numbers, or the reason it is not one. */
export function parseMetricsJson(text: string): Record<string, number> | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return `metrics.json is not JSON: ${(err as Error).message}`;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return 'metrics.json must be a JSON object';
  const bad = Object.entries(data as Record<string, unknown>).find(([, v]) => typeof v !== 'number');
  if (bad) return `metrics.json must hold numbers only ('${bad[0]}' is ${JSON.stringify(bad[1])})`;
  return data as Record<string, number>;
}

/** Run a command under the contract; rejects with the reason when it cannot start or exits non-zero. */
export function runContractCommand(spec: ContractCommand): Promise<ContractResult> {
  return new Promise<ContractResult>((resolve, reject) => {
    rmSync(spec.outputDir, { recursive: true, force: true }); // a re-run starts from an empty folder
    mkdirSync(spec.outputDir, { recursive: true });
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...spec.env,
      TEND_PARAMS: JSON.stringify(spec.params),
      TEND_OUTPUT_DIR: spec.outputDir,
      ...(spec.trial !== undefined ? { TEND_TRIAL: String(spec.trial) } : {}),
      ...(spec.data !== undefined ? { TEND_DATA: spec.data } : {}),
      ...(spec.target !== undefined ? { TEND_TARGET: spec.target } : {}),
    };
    const child = spawn('/bin/sh', ['-c', spec.command], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const steps: [number, number][] = [];
    let stoppedAt: number | null = null;
    let stderr = '';
    let nextStep = 0;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (stoppedAt !== null) return;
      const stepMatch = STEP_LINE.exec(line);
      const metricMatch = stepMatch ?? METRIC_LINE.exec(line);
      if (!metricMatch) return;
      const value = Number(stepMatch ? stepMatch[2] : metricMatch[1]);
      if (!Number.isFinite(value)) return;
      const step = stepMatch ? Number(stepMatch[1]) : nextStep;
      nextStep = step + 1;
      steps.push([step, value]);
      if (spec.onStep?.(step, value)) {
        stoppedAt = step;
        killGroup();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
    });
    child.on('error', (err) => reject(new Error(`cannot run the command: ${err.message}`)));
    child.on('close', (code, signal) => {
      void (async () => {
        if (stoppedAt !== null) return resolve({ stoppedAt, metrics: null, metricsError: null, steps });
        if (code !== 0) {
          const tail = stderr.trim().split('\n').slice(-3).join(' | ');
          const how = code === null ? `signal ${signal}` : `code ${code}`;
          return reject(new Error(`the command exited with ${how}${tail ? `: ${tail}` : ''}`));
        }
        let text: string | null = null;
        try {
          text = await readFile(join(spec.outputDir, 'metrics.json'), 'utf8');
        } catch {
          text = null;
        }
        const parsed = text === null ? null : parseMetricsJson(text);
        resolve({
          stoppedAt: null,
          metrics: typeof parsed === 'object' ? parsed : null,
          metricsError: typeof parsed === 'string' ? parsed : null,
          steps,
        });
      })();
    });
  });
}
