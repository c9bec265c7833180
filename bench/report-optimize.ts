/**
 * The int8 part of BENCHMARKS.md (issue 6): speed-ups of int8-dynamic over fp32 measured in the same
 * run, file size ratios and output agreement, with the targets of the issue.
 */
import type { DigitsInt8, OptimizeRow } from './optimize.js';
import type { MethodRow } from './optimize-methods.js';
import { methodTargets, renderMethods } from './report-optimize-methods.js';

export interface OptimizeSection {
  rows: OptimizeRow[];
  skipped: string[];
  digits: DigitsInt8;
  /** Optimization II rows (absent in results files written before them). */
  methods?: MethodRow[];
}

export const DIGITS_MAX_DROP_POINTS = 1;
export const DIGITS_MAX_WEIGHT_RATIO = 0.27;
import {
  controlledVerdict,
  controlsNote,
  controlTarget,
  splitHalf,
  tooNoisy,
  type Outcome,
  type TargetRow,
} from './report-rows.js';
import { ratio } from './statistics.js';

/** Targets per model: min speed-up per batch size, max file ratio, min mean cosine. */
export const OPTIMIZE_TARGETS: Record<
  string,
  { speedup: Record<number, number>; fileRatio: number; cosine?: number }
> = {
  text_encoder_6l: { speedup: { 1: 1.7, 8: 1.8 }, fileRatio: 0.3, cosine: 0.999 },
  tiny_text_encoder: { speedup: { 8: 1.25 }, fileRatio: 0.3 },
};

const rate = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));

export function optimizeTargets(
  outcome: Outcome<OptimizeSection> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  if (outcome === undefined) return [];
  if (!('data' in outcome)) {
    return [
      {
        name: 'int8-dynamic vs fp32',
        figure: '—',
        baseline: '—',
        ratio: Number.NaN,
        target: 'see section 8',
        verdict: 'NOT RUN',
        note: whyMissing(outcome),
      },
    ];
  }
  const out: TargetRow[] = [];
  for (const row of outcome.data.rows) {
    const t = OPTIMIZE_TARGETS[row.model];
    if (!t) continue;
    for (const [batch, min] of Object.entries(t.speedup)) {
      const b = Number(batch);
      const r = ratio(row.int8[b] ?? Number.NaN, row.fp32[b] ?? Number.NaN);
      // Older results files have no rounds: their controls read NaN and the row INCONCLUSIVE.
      const controls = [splitHalf(row.fp32Rounds?.[b] ?? []), splitHalf(row.int8Rounds?.[b] ?? [])];
      const verdict = controlledVerdict(true, controls, r >= min);
      out.push({
        name: `${row.model} int8-dynamic, batch ${b} (items/s)`,
        figure: rate(row.int8[b] ?? Number.NaN),
        baseline: `${rate(row.fp32[b] ?? Number.NaN)} (fp32)`,
        ratio: r,
        target: `≥ ${min.toFixed(2)}, ${controlTarget()}`,
        verdict,
        note: [
          controlsNote([
            ['fp32', controls[0] ?? Number.NaN],
            ['int8', controls[1] ?? Number.NaN],
          ]),
          verdict === 'INCONCLUSIVE' ? tooNoisy() : '',
        ]
          .filter((n) => n !== '')
          .join('; '),
      });
    }
    const fr = row.int8Bytes / row.fp32Bytes;
    out.push({
      name: `${row.model} int8-dynamic file size`,
      figure: `${(row.int8Bytes / 2 ** 20).toFixed(2)} MiB`,
      baseline: `${(row.fp32Bytes / 2 ** 20).toFixed(2)} MiB (fp32)`,
      ratio: fr,
      target: `≤ ${t.fileRatio.toFixed(2)}`,
      verdict: fr <= t.fileRatio ? 'PASS' : 'FAIL',
      note: '',
    });
    if (t.cosine !== undefined) {
      const c = row.meanCosine ?? Number.NaN;
      out.push({
        name: `${row.model} int8-dynamic mean cosine of outputs`,
        figure: c.toFixed(5),
        baseline: 'fp32 outputs',
        ratio: c,
        target: `≥ ${t.cosine}`,
        verdict: c >= t.cosine ? 'PASS' : 'FAIL',
        note: '',
      });
    }
  }
  const d = outcome.data.digits;
  const drop = (d.fp32Accuracy - d.int8Accuracy) * 100;
  out.push({
    name: `digits demo model int8-dynamic, accuracy on its ${d.testRows}-row test split`,
    figure: `${(d.int8Accuracy * 100).toFixed(2)}%`,
    baseline: `${(d.fp32Accuracy * 100).toFixed(2)}% (fp32)`,
    ratio: drop,
    target: `drop ≤ ${DIGITS_MAX_DROP_POINTS} pt`,
    verdict: drop <= DIGITS_MAX_DROP_POINTS ? 'PASS' : 'FAIL',
    note: `ratio column = drop in points`,
  });
  out.push({
    name: 'digits demo model int8-dynamic weight bytes',
    figure: `${d.weightRatio.toFixed(3)} of fp32`,
    baseline: `file ${d.fileRatio.toFixed(2)} of fp32 (fixed overheads; reported, not gated)`,
    ratio: d.weightRatio,
    target: `≤ ${DIGITS_MAX_WEIGHT_RATIO}`,
    verdict: d.weightRatio <= DIGITS_MAX_WEIGHT_RATIO ? 'PASS' : 'FAIL',
    note: '',
  });
  out.push(...methodTargets(outcome.data.methods, outcome.data.skipped.includes('text_encoder_6l')));
  for (const name of outcome.data.skipped) {
    out.push({
      name: `${name} int8-dynamic`,
      figure: '—',
      baseline: '—',
      ratio: Number.NaN,
      target: 'see section 8',
      verdict: 'NOT RUN',
      note: `${name}.onnx is absent`,
    });
  }
  return out;
}

export function renderOptimize(
  outcome: Outcome<OptimizeSection> | undefined,
  vnni: string,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = [
    '## 8. Optimization: int8 dynamic and static quantization, fp16, pruning vs fp32',
    '',
  ];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  out.push(
    "Each model is quantized by tend's own `quantizeDynamic` (MatMul, Gemm, Conv and Gather weights to 8 bits, activations quantized at run time, " +
      "onnxruntime's formulas; `tend optimize --method int8-dynamic` does the same). fp32 and int8 run side by side in worker threads " +
      "(one instance each, onnxruntime's default threads, graph optimization `all`); each round times fp32 then int8 (or the reverse) on the same inputs " +
      `(seq 128 for the encoders); items/s are from \`session.run\` times, medians of ${outcome.data.rows[0]?.rounds ?? '—'} rounds. ` +
      `CPU vector extensions for int8: ${vnni}.`,
    '',
    '| model | batch | fp32 items/s | int8 items/s | speed-up | file fp32 → int8 | mean cosine | top-1 agreement | fused kernels |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const row of outcome.data.rows) {
    for (const b of Object.keys(row.fp32).map(Number)) {
      out.push(
        `| ${row.model} | ${b} | ${rate(row.fp32[b] ?? Number.NaN)} | ${rate(row.int8[b] ?? Number.NaN)} | ${ratio(row.int8[b] ?? Number.NaN, row.fp32[b] ?? Number.NaN).toFixed(2)} | ` +
          `${(row.fp32Bytes / 2 ** 20).toFixed(2)} → ${(row.int8Bytes / 2 ** 20).toFixed(2)} MiB (${(row.int8Bytes / row.fp32Bytes).toFixed(2)}) | ` +
          `${row.meanCosine === null ? '—' : row.meanCosine.toFixed(5)} | ${row.agreement === null ? '—' : row.agreement.toFixed(3)} | ${row.fusedKernels.join(', ') || '—'} |`,
      );
    }
  }
  const d = outcome.data.digits;
  out.push(
    '',
    `The digits demo model (tend's trainer, 64 → 32 → 10, standardization inside the graph) in int8: accuracy on its ${d.testRows}-row test split ` +
      `${(d.fp32Accuracy * 100).toFixed(2)}% (fp32) → ${(d.int8Accuracy * 100).toFixed(2)}% (int8); weight bytes ${d.weightRatio.toFixed(3)} of fp32; ` +
      `file ${d.fileRatio.toFixed(2)} of fp32 (a small model keeps fixed overheads: graph, names, the standardization constants).`,
    '',
    ...renderMethods(outcome.data.methods),
  );
  return out;
}
