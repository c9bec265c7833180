/**
 * The explanations part of BENCHMARKS.md (issue 24): model evaluations per second during a KernelSHAP
 * explanation of a digit against onnxruntime in this process at the explainer's batch size (goal
 * ≥ 0.8), and the median wall time of one explanation (goal ≤ 250 ms).
 */
import type { ExplainBenchResult } from './explain.js';
import { notRun, type Outcome, type TargetRow } from './report-rows.js';
import { median, ratio } from './statistics.js';

export const EXPLAIN_SPEED_TARGET = 0.8;
export const EXPLAIN_SECONDS_TARGET = 0.25;

const rate = (x: number): string => Math.round(x).toLocaleString('en-US');
const ms = (s: number): string => `${(s * 1000).toFixed(0)} ms`;

export function explainTargets(
  outcome: Outcome<ExplainBenchResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  if (outcome === undefined) return [];
  const speedName = 'Digits KernelSHAP: model evaluations/s vs onnxruntime in-process, same batch';
  const timeName = 'Digits KernelSHAP: one explanation, default nsamples (median of 10)';
  if (!('data' in outcome))
    return [
      notRun(speedName, `≥ ${EXPLAIN_SPEED_TARGET.toFixed(2)}`, whyMissing(outcome)),
      notRun(timeName, `≤ 1.00`, whyMissing(outcome)),
    ];
  const d = outcome.data;
  const served = median(d.explainEvaluationsPerSecond);
  const raw = median(d.ortEvaluationsPerSecond);
  const r = ratio(served, raw);
  const seconds = median(d.explainSeconds);
  const t = seconds / EXPLAIN_SECONDS_TARGET;
  return [
    {
      name: speedName,
      figure: `${rate(served)} evaluations/s (explain)`,
      baseline: `${rate(raw)} rows/s (onnxruntime, batch ${d.batchRows})`,
      ratio: r,
      target: `≥ ${EXPLAIN_SPEED_TARGET.toFixed(2)}`,
      verdict: r >= EXPLAIN_SPEED_TARGET ? 'PASS' : 'FAIL',
      note: '',
    },
    {
      name: timeName,
      figure: ms(seconds),
      baseline: `${ms(EXPLAIN_SECONDS_TARGET)} (issue 24 goal)`,
      ratio: t,
      target: '≤ 1.00',
      verdict: t <= 1 ? 'PASS' : 'FAIL',
      note: '',
    },
  ];
}

export function renderExplain(
  outcome: Outcome<ExplainBenchResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 15. Explanations: KernelSHAP through the serving runtime', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const d = outcome.data;
  out.push(
    `One KernelSHAP explanation of a digit (\`engine.explain\`, the path of \`POST /v2/models/digits/explain\` without HTTP): ` +
      `the digits MLP fixture served in a worker thread, its reference (899 rows) summarised by k-means to 50 background rows (computed once, cached), ` +
      `default nsamples (2·M′ + 2048 coalitions, M′ the pixels that vary; ${d.nsamples} in the median run), ${d.evaluations.toLocaleString('en-US')} model evaluations per explanation, ` +
      `sent to the worker in batches of ${d.batchRows} rows. Each run is one explanation, then as many rows through an onnxruntime session in this process ` +
      `(same model, default threads, batch ${d.batchRows}); the two alternate for ${d.explainSeconds.length} runs. The explanation's rate is its evaluations over its whole wall time ` +
      '(the coalition rows written in JavaScript, the worker round trips, the weighted least squares). ' +
      'The digits MLP computes a row in a fraction of a microsecond, so that work weighs about as much as the ' +
      "model's own: the ratio measures the explainer's overhead per evaluation, on the same cores.",
    '',
    '| run | explanation | evaluations/s (explain) | rows/s (onnxruntime in-process) | ratio |',
    '| --- | --- | --- | --- | --- |',
  );
  d.explainSeconds.forEach((s, i) => {
    const e = d.explainEvaluationsPerSecond[i] ?? Number.NaN;
    const o = d.ortEvaluationsPerSecond[i] ?? Number.NaN;
    out.push(`| ${i + 1} | ${ms(s)} | ${rate(e)} | ${rate(o)} | ${ratio(e, o).toFixed(2)} |`);
  });
  const served = median(d.explainEvaluationsPerSecond);
  const raw = median(d.ortEvaluationsPerSecond);
  out.push(
    `| **median** | **${ms(median(d.explainSeconds))}** | **${rate(served)}** | **${rate(raw)}** | **${ratio(served, raw).toFixed(2)}** |`,
    '',
  );
  return out;
}
