/**
 * The objective of `tend tune --command CMD`: any program, run once per trial under tend's external
 * command contract (external-command.ts) with TEND_TRIAL set. Each `tend:step=` line is an
 * intermediate value; when the pruner says stop, the command's process group is killed. The trial's
 * value is metrics.json[metric], or, without a metrics.json, the last tend:metric printed. A crash, a
 * missing metric or a malformed metrics.json fails the trial with the reason.
 */
import { TrialPruned, type Objective } from '../../tune/index.js';
import { parseMetricsJson, runContractCommand } from './external-command.js';

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
  const parsed = parseMetricsJson(text);
  if (typeof parsed === 'string') return parsed;
  return metricOf(parsed, metric);
}

function metricOf(metrics: Record<string, number>, metric: string): number | string {
  const value = metrics[metric];
  if (value === undefined)
    return `metrics.json has no '${metric}' (it has ${Object.keys(metrics).join(', ') || 'nothing'})`;
  return value;
}

export function commandObjective(options: CommandObjectiveOptions): Objective {
  return async (trial) => {
    const result = await runContractCommand({
      command: options.command,
      outputDir: options.trialDir(trial.number),
      params: trial.params,
      trial: trial.number,
      ...(options.data !== undefined ? { data: options.data } : {}),
      ...(options.target !== undefined ? { target: options.target } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      onStep: (step, value) => trial.report(step, value),
    });
    if (result.stoppedAt !== null) throw new TrialPruned(result.stoppedAt);
    if (result.metricsError !== null) throw new Error(result.metricsError);
    if (result.metrics !== null) {
      const value = metricOf(result.metrics, options.metric);
      if (typeof value === 'string') throw new Error(value);
      return value;
    }
    const last = result.steps.at(-1);
    if (last !== undefined) return last[1];
    throw new Error('the command wrote no metrics.json and printed no tend:metric=<value> line');
  };
}
