/**
 * The Optimization II rows of BENCHMARKS.md section 8 (issue 21): int8-static of small_cnn,
 * fp16 of text_encoder_6l, structured pruning + fine-tuning of the digits demo model. Every speed
 * ratio is judged only when the A/A controls of both sides hold (controlledVerdict), like the
 * int8-dynamic rows.
 */
import type { MethodRow } from './optimize-methods.js';
import {
  controlledVerdict,
  controlsNote,
  controlTarget,
  notRun,
  splitHalf,
  tooNoisy,
  type TargetRow,
} from './report-rows.js';
import { ratio } from './statistics.js';

export const INT8_STATIC_GOAL = 1.5;
export const INT8_STATIC_MIN_AGREEMENT = 0.98;
export const FP16_MAX_FILE_RATIO = 0.52;
export const FP16_MIN_COSINE = 0.999;
export const PRUNE_MAX_DROP_POINTS = 1;

const rate = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(2)} MiB`;

/** A speed ratio of `candidate` over `parent` (at their batches) with both sides' A/A controls. */
function speedRow(
  name: string,
  r: MethodRow,
  parentBatch: number,
  candidateBatch: number,
  min: number,
  goal: string,
): TargetRow {
  const x = ratio(r.candidate[candidateBatch] ?? Number.NaN, r.parent[parentBatch] ?? Number.NaN);
  const controls = [
    splitHalf(r.parentRounds[parentBatch] ?? []),
    splitHalf(r.candidateRounds[candidateBatch] ?? []),
  ];
  const verdict = controlledVerdict(true, controls, x > min);
  return {
    name,
    figure: rate(r.candidate[candidateBatch] ?? Number.NaN),
    baseline: `${rate(r.parent[parentBatch] ?? Number.NaN)} (fp32)`,
    ratio: x,
    target: `> ${min.toFixed(2)}${goal}, ${controlTarget()}`,
    verdict,
    note: [
      controlsNote([
        ['fp32', controls[0] ?? Number.NaN],
        [r.method, controls[1] ?? Number.NaN],
      ]),
      verdict === 'INCONCLUSIVE' ? tooNoisy() : '',
    ]
      .filter((n) => n !== '')
      .join('; '),
  };
}

/** The batch with the most items/s of one side. */
function bestBatch(figures: Record<number, number>): number {
  let best = Number.NaN;
  for (const [b, x] of Object.entries(figures))
    if (Number.isNaN(best) || x > (figures[best] ?? Number.NaN)) best = Number(b);
  return best;
}

/** Target rows of the Optimization II methods (older results files have none: no rows). */
export function methodTargets(rows: readonly MethodRow[] | undefined, encoderAbsent: boolean): TargetRow[] {
  if (rows === undefined) return [];
  const out: TargetRow[] = [];
  const cnn = rows.find((r) => r.method === 'int8-static');
  if (cnn !== undefined) {
    const s = speedRow(
      `${cnn.model} int8-static, batch 8 (items/s)`,
      cnn,
      8,
      8,
      1,
      ` (goal ≥ ${INT8_STATIC_GOAL.toFixed(2)})`,
    );
    if (s.verdict === 'PASS' && s.ratio < INT8_STATIC_GOAL)
      s.note = `${s.note}; faster, but short of the ${INT8_STATIC_GOAL}× goal`;
    out.push(s);
    const a = cnn.agreement ?? Number.NaN;
    out.push({
      name: `${cnn.model} int8-static top-1 agreement with fp32 (500 inputs, another seed than calibration)`,
      figure: a.toFixed(3),
      baseline: 'fp32 top-1',
      ratio: a,
      target: `≥ ${INT8_STATIC_MIN_AGREEMENT}`,
      verdict: a >= INT8_STATIC_MIN_AGREEMENT ? 'PASS' : 'FAIL',
      note: '',
    });
    const kernels = Object.entries(cnn.quantizedKernels);
    const qlinear = kernels.some(([op]) => /QLinearConv$/.test(op));
    out.push({
      name: `${cnn.model} int8-static runs onnxruntime's QLinearConv`,
      figure: kernels.map(([op, n]) => `${op.replace(/^com\.microsoft\./, '')} ×${n}`).join(', ') || 'none',
      baseline: 'fp32 Conv',
      ratio: Number.NaN,
      target: 'QLinearConv listed',
      verdict: qlinear ? 'PASS' : 'FAIL',
      note: '',
    });
  }
  const fp16 = rows.find((r) => r.method === 'fp16');
  if (fp16 !== undefined) {
    const fr = fp16.candidateBytes / fp16.parentBytes;
    out.push({
      name: `${fp16.model} fp16 file size`,
      figure: mib(fp16.candidateBytes),
      baseline: `${mib(fp16.parentBytes)} (fp32)`,
      ratio: fr,
      target: `≤ ${FP16_MAX_FILE_RATIO}`,
      verdict: fr <= FP16_MAX_FILE_RATIO ? 'PASS' : 'FAIL',
      note: 'inputs and outputs stay FP32 (Casts inside)',
    });
    const c = fp16.meanCosine ?? Number.NaN;
    out.push({
      name: `${fp16.model} fp16 mean cosine of outputs`,
      figure: c.toFixed(5),
      baseline: 'fp32 outputs',
      ratio: c,
      target: `≥ ${FP16_MIN_COSINE}`,
      verdict: c >= FP16_MIN_COSINE ? 'PASS' : 'FAIL',
      note: '',
    });
  } else if (encoderAbsent) {
    out.push(notRun('text_encoder_6l fp16', 'see section 8', 'text_encoder_6l.onnx is absent'));
  }
  const pruned = rows.find((r) => r.method === 'prune-structured-finetuned');
  if (pruned !== undefined) {
    const pr = pruned.candidateParameters / pruned.parentParameters;
    out.push({
      name: `${pruned.model} structured pruning 50% of hidden units: parameters`,
      figure: String(pruned.candidateParameters),
      baseline: `${pruned.parentParameters} (fp32)`,
      ratio: pr,
      target: '< 1',
      verdict: pr < 1 ? 'PASS' : 'FAIL',
      note: '',
    });
    const fr = pruned.candidateBytes / pruned.parentBytes;
    out.push({
      name: `${pruned.model} structured pruning 50%: file size`,
      figure: `${pruned.candidateBytes} B`,
      baseline: `${pruned.parentBytes} B (fp32)`,
      ratio: fr,
      target: '< 1',
      verdict: fr < 1 ? 'PASS' : 'FAIL',
      note: '',
    });
    const pb = bestBatch(pruned.parent);
    const cb = bestBatch(pruned.candidate);
    out.push(
      speedRow(
        `${pruned.model} structured pruning 50%: best-batch items/s (fp32 at ${pb}, pruned at ${cb})`,
        pruned,
        pb,
        cb,
        1,
        '',
      ),
    );
    if (pruned.accuracy !== null) {
      const a = pruned.accuracy;
      const drop = (a.parent - a.candidate) * 100;
      out.push({
        name: `${pruned.model} structured pruning 50% + fine-tuning: accuracy on its ${a.rows}-row test split`,
        figure: `${(a.candidate * 100).toFixed(2)}%`,
        baseline: `${(a.parent * 100).toFixed(2)}% (fp32)`,
        ratio: drop,
        target: `drop ≤ ${PRUNE_MAX_DROP_POINTS} pt`,
        verdict: drop <= PRUNE_MAX_DROP_POINTS ? 'PASS' : 'FAIL',
        note: `ratio column = drop in points; before fine-tuning ${a.beforeFinetune === null ? '—' : `${(a.beforeFinetune * 100).toFixed(2)}%`}`,
      });
    }
  }
  return out;
}

/** The section 8 table of the Optimization II methods. */
export function renderMethods(rows: readonly MethodRow[] | undefined): string[] {
  if (rows === undefined || rows.length === 0) return [];
  const out = [
    '### Optimization II: int8-static, fp16, structured pruning',
    '',
    'Each candidate is made by the code of `tend optimize` (int8-static: QDQ calibrated on 200 seeded normal inputs, percentile 99.999; fp16: weights in float16, compute in float32; ' +
      'structured pruning: 50% of hidden units removed by L1 norm, then 10 epochs of fine-tuning on the training split with the trainer that made the model) ' +
      `and timed beside its fp32 parent in worker threads, rounds alternating; items/s are medians of ${rows[0]?.rounds ?? '—'} rounds.`,
    '',
    '| model | method | batch | fp32 items/s | candidate items/s | speed-up | file fp32 → candidate | parameters | quality | quantized kernels |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const quality =
      r.accuracy !== null
        ? `accuracy ${(r.accuracy.parent * 100).toFixed(2)}% → ${(r.accuracy.candidate * 100).toFixed(2)}% (pruned, not fine-tuned: ${r.accuracy.beforeFinetune === null ? '—' : `${(r.accuracy.beforeFinetune * 100).toFixed(2)}%`})`
        : `cosine ${r.meanCosine === null ? '—' : r.meanCosine.toFixed(5)}, agreement ${r.agreement === null ? '—' : r.agreement.toFixed(3)}`;
    for (const b of r.batches) {
      out.push(
        `| ${r.model} | ${r.method} | ${b} | ${rate(r.parent[b] ?? Number.NaN)} | ${rate(r.candidate[b] ?? Number.NaN)} | ${ratio(r.candidate[b] ?? Number.NaN, r.parent[b] ?? Number.NaN).toFixed(2)} | ` +
          `${mib(r.parentBytes)} → ${mib(r.candidateBytes)} (${(r.candidateBytes / r.parentBytes).toFixed(2)}) | ${r.parentParameters} → ${r.candidateParameters} | ${quality} | ` +
          `${
            Object.entries(r.quantizedKernels)
              .map(([op, n]) => `${op.replace(/^com\.microsoft\./, '')} ×${n}`)
              .join(', ') || '—'
          } |`,
      );
    }
  }
  out.push(
    '',
    'fp16 on CPU computes in float32 (Casts around each weight): it saves size (file, registry, transfer), not time.',
    '',
  );
  return out;
}
