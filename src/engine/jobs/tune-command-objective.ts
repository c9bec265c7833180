/**
 * The objective of `tend tune --command CMD`: any program, run once per trial under tend's external
 * command contract. It runs through /bin/sh with TEND_PARAMS (the trial's parameters as JSON),
 * TEND_OUTPUT_DIR (a fresh folder per trial), TEND_TRIAL (its number) and TEND_DATA / TEND_TARGET when
 * given; it may write model.onnx and metrics.json (a flat object of numbers) to TEND_OUTPUT_DIR and
 * print `tend:step=<n> tend:metric=<value>` lines. Each such line is an intermediate value; when the
 * pruner says stop, the command's process group is killed. The trial's value is metrics.json[metric],
 * or, without a metrics.json, the last tend:metric printed. A crash, a missing metric or a malformed
 * metrics.json fails the trial with the reason.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TrialPruned, type Objective } from '../../tune/index.js';

const STEP_LINE = /tend:step=(\d+)\s+tend:metric=(\S+)/;
const METRIC_LINE = /tend:metric=(\S+)/;
const STDERR_TAIL_CHARS = 2000;

export interface CommandObjectiveOptions {
  command: string;
  metric: string;
  /** Where each trial's TEND_OUTPUT_DIR is. */
  trialDir: (number: number) => string;
  data?: string;
  target?: string;
  /** Extra environment (tests). */
  env?: Record<string, string>;
}

/** Parse metrics.json text: a flat object of numbers. Returns the value of `metric` or a reason. */
export function metricFrom(text: string, metric: string): number | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return `metrics.json is not JSON: ${(err as Error).message}`;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return 'metrics.json must be a JSON object';
  const entries = Object.entries(data as Record<string, unknown>);
  const bad = entries.find(([, v]) => typeof v !== 'number');
  if (bad) return `metrics.json must hold numbers only ('${bad[0]}' is ${JSON.stringify(bad[1])})`;
  const value = (data as Record<string, unknown>)[metric];
  if (value === undefined)
    return `metrics.json has no '${metric}' (it has ${entries.map(([k]) => k).join(', ') || 'nothing'})`;
  return value as number;
}

export function commandObjective(options: CommandObjectiveOptions): Objective {
  return (trial) =>
    new Promise<number>((resolve, reject) => {
      const dir = options.trialDir(trial.number);
      rmSync(dir, { recursive: true, force: true }); // a re-run trial starts from an empty folder
      mkdirSync(dir, { recursive: true });
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        ...options.env,
        TEND_PARAMS: JSON.stringify(trial.params),
        TEND_OUTPUT_DIR: dir,
        TEND_TRIAL: String(trial.number),
        ...(options.data !== undefined ? { TEND_DATA: options.data } : {}),
        ...(options.target !== undefined ? { TEND_TARGET: options.target } : {}),
      };
      const child = spawn('/bin/sh', ['-c', options.command], {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let lastMetric: number | null = null;
      let prunedAt: number | null = null;
      let stderr = '';
      let implicitStep = 0;
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (prunedAt !== null) return;
        const stepMatch = STEP_LINE.exec(line);
        const metricMatch = stepMatch ?? METRIC_LINE.exec(line);
        if (!metricMatch) return;
        const value = Number(stepMatch ? stepMatch[2] : metricMatch[1]);
        if (!Number.isFinite(value)) return;
        lastMetric = value;
        const step = stepMatch ? Number(stepMatch[1]) : implicitStep;
        implicitStep = step + 1;
        if (trial.report(step, value)) {
          prunedAt = step;
          killGroup();
        }
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      });
      child.on('error', (err) => reject(new Error(`cannot run the command: ${err.message}`)));
      child.on('close', (code, signal) => {
        void (async () => {
          if (prunedAt !== null) return reject(new TrialPruned(prunedAt));
          if (code !== 0) {
            const tail = stderr.trim().split('\n').slice(-3).join(' | ');
            return reject(
              new Error(
                `the command exited with ${code === null ? `signal ${signal}` : `code ${code}`}${tail ? `: ${tail}` : ''}`,
              ),
            );
          }
          let text: string | null = null;
          try {
            text = await readFile(join(dir, 'metrics.json'), 'utf8');
          } catch {
            text = null;
          }
          if (text !== null) {
            const value = metricFrom(text, options.metric);
            return typeof value === 'number' ? resolve(value) : reject(new Error(value));
          }
          if (lastMetric !== null) return resolve(lastMetric);
          reject(new Error('the command wrote no metrics.json and printed no tend:metric=<value> line'));
        })();
      });
    });
}
