/**
 * The tune part of BENCHMARKS.md (issue 23): tend's TPE against Optuna's multivariate TPE on Branin
 * and Hartmann-6, the same seeds × trials. Targets: tend's mean best no worse than Optuna's (the
 * difference within 2·√(SE_tend² + SE_optuna²)), and tend's sampler time per trial no higher.
 */
import type { Outcome, TargetRow } from './report-rows.js';
import { notRun } from './report-rows.js';
import { ratio } from './statistics.js';
import type { SamplerFigure, TuneBenchResult, TuneFunctionResult } from './tune.js';

const LABEL: Record<string, string> = { branin: 'Branin', hartmann6: 'Hartmann-6' };
const label = (name: string) => LABEL[name] ?? name;
const value = (f: SamplerFigure) => `${f.mean.toFixed(3)} ± ${f.se.toFixed(3)}`;
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));

function pair(fn: TuneFunctionResult): { tend: SamplerFigure; optuna: SamplerFigure } | null {
  const tend = fn.tend.find((f) => f.sampler === 'tpe');
  const optuna = Array.isArray(fn.optuna)
    ? fn.optuna.find((f) => f.sampler === 'tpe-multivariate')
    : undefined;
  return tend && optuna ? { tend, optuna } : null;
}

export function tuneTargets(
  outcome: Outcome<TuneBenchResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  if (outcome === undefined) return [];
  if (!('data' in outcome))
    return [notRun('TPE vs Optuna multivariate TPE (mean best)', 'no worse', whyMissing(outcome))];
  const rows: TargetRow[] = [];
  const { seeds, trials } = outcome.data;
  for (const fn of outcome.data.functions) {
    const p = pair(fn);
    const name = `${label(fn.name)}: TPE mean best, ${seeds} seeds × ${trials} trials (minimize)`;
    if (p === null) {
      rows.push(
        notRun(name, 'no worse than Optuna', 'missing' in fn.optuna ? fn.optuna.missing : 'no figure'),
      );
      continue;
    }
    const margin = 2 * Math.hypot(p.tend.se, p.optuna.se);
    const diff = p.tend.mean - p.optuna.mean;
    rows.push({
      name,
      figure: `${value(p.tend)} (tend)`,
      baseline: `${value(p.optuna)} (Optuna multivariate TPE)`,
      ratio: Number.NaN,
      target: `tend − Optuna ≤ 2·√(SE²+SE²) = ${margin.toFixed(3)}`,
      verdict: diff <= margin ? 'PASS' : 'FAIL',
      note: `difference ${diff >= 0 ? '+' : ''}${diff.toFixed(3)}`,
    });
    const r = ratio(p.tend.overheadMs, p.optuna.overheadMs);
    rows.push({
      name: `${label(fn.name)}: sampler time per trial (ms)`,
      figure: `${ms(p.tend.overheadMs)} (tend TPE)`,
      baseline: `${ms(p.optuna.overheadMs)} (Optuna multivariate TPE)`,
      ratio: r,
      target: '≤ 1.00',
      verdict: r <= 1 ? 'PASS' : 'FAIL',
      note: '',
    });
  }
  const pruning = outcome.data.pruning;
  if (pruning !== undefined) {
    const saved = 1 - pruning.epochsPruned / pruning.epochsUnpruned;
    const lossPt = (pruning.bestUnpruned - pruning.bestPruned) * 100;
    rows.push({
      name: `Digits MLP study, median pruning: epochs saved (${pruning.seeds} seeds × ${pruning.trials} trials)`,
      figure: `${pruning.epochsPruned} epochs (median pruner)`,
      baseline: `${pruning.epochsUnpruned} epochs (no pruning)`,
      ratio: ratio(pruning.epochsPruned, pruning.epochsUnpruned),
      target: '≤ 0.70, best within 0.5 pt',
      verdict: saved >= 0.3 && lossPt <= 0.5 ? 'PASS' : 'FAIL',
      note: `best accuracy ${(pruning.bestPruned * 100).toFixed(2)}% vs ${(pruning.bestUnpruned * 100).toFixed(2)}%`,
    });
  }
  return rows;
}

export function renderTune(
  outcome: Outcome<TuneBenchResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 16. Hyperparameter tuning: tend TPE vs Optuna', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const d = outcome.data;
  out.push(
    `Branin (2-d, minimum 0.398) and Hartmann-6 (6-d, minimum −3.322), minimized; ${d.seeds} seeds × ${d.trials} trials per sampler; ` +
      `the mean over the seeds of each study's best value ± its standard error. tend runs \`runStudy\` in this process on an in-memory ` +
      `study storage; Optuna ${d.optunaVersion ?? '(missing)'} runs \`study.optimize\` in a \`/usr/bin/python3\` child (bench/tune_optuna.py) on its in-memory storage. ` +
      "Sampler time per trial: a study's wall time less its objective's, per trial, median over the seeds. " +
      "tend's `tpe` is multivariate (Optuna's `multivariate=True`), `tpe-univariate` one estimator per parameter (Optuna's default `TPESampler()`).",
    '',
    '| function | sampler | tend mean best | tend ms/trial | Optuna sampler | Optuna mean best | Optuna ms/trial |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const fn of d.functions) {
    fn.tend.forEach((t, i) => {
      const o = Array.isArray(fn.optuna) ? fn.optuna[i] : undefined;
      out.push(
        `| ${label(fn.name)} | ${t.sampler} | ${value(t)} | ${ms(t.overheadMs)} | ${o ? o.sampler : '—'} | ${o ? value(o) : 'missing' in fn.optuna ? fn.optuna.missing : '—'} | ${o ? ms(o.overheadMs) : '—'} |`,
      );
    });
  }
  out.push(
    '',
    'Not in this section yet: the digits-MLP study with Optuna calling `tend train --json` as its objective, and the epochs median pruning saves (the tests check that pruning stops trials early).',
    '',
  );
  return out;
}
