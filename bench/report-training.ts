/**
 * The training part of BENCHMARKS.md (issue 9): digits MLP epochs per second of `tend train`'s
 * accelerated path against scikit-learn's MLPClassifier measured in the same run (goal: no slower),
 * the TypeScript trainer beside them, and online-learning samples per second.
 */
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
import { SKLEARN_PYTHON, TRAINING_HIDDEN, type TrainingResult } from './training.js';

export const TRAINING_TARGET = 1.0;

const rate = (x: number): string =>
  x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 100 ? x.toFixed(0) : x.toFixed(1);
const fmtRatio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');

const targetName = (batch: number): string =>
  `Digits MLP [${TRAINING_HIDDEN.join(', ')}] training, batch ${batch} (epochs/s)`;

export function trainingTargets(
  outcome: Outcome<TrainingResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  if (outcome === undefined) return [];
  const target = `≥ ${TRAINING_TARGET.toFixed(2)}, ${controlTarget()}`;
  if (!('data' in outcome)) {
    return [
      {
        name: 'Digits MLP training vs scikit-learn (epochs/s)',
        figure: '—',
        baseline: '—',
        ratio: Number.NaN,
        target,
        verdict: 'NOT RUN',
        note: whyMissing(outcome),
      },
    ];
  }
  const { sklearn, speed } = outcome.data;
  return speed.map((s): TargetRow => {
    const figure = `${rate(s.tend)} (tend train, onnxruntime)`;
    if (s.sklearn === null || !('version' in sklearn)) {
      return {
        name: targetName(s.batchSize),
        figure,
        baseline: '—',
        ratio: Number.NaN,
        target,
        verdict: 'NOT RUN',
        note: 'missing' in sklearn ? sklearn.missing : 'scikit-learn did not run',
      };
    }
    const r = ratio(s.tend, s.sklearn);
    const controls = [splitHalf(s.tendRuns), splitHalf(s.sklearnRuns)];
    const verdict = controlledVerdict(true, controls, r >= TRAINING_TARGET);
    return {
      name: targetName(s.batchSize),
      figure,
      baseline: `${rate(s.sklearn)} (scikit-learn ${sklearn.version} MLPClassifier)`,
      ratio: r,
      target,
      verdict,
      note: [
        controlsNote([
          ['tend', controls[0] ?? Number.NaN],
          ['scikit-learn', controls[1] ?? Number.NaN],
        ]),
        verdict === 'INCONCLUSIVE' ? tooNoisy() : '',
      ]
        .filter((n) => n !== '')
        .join('; '),
    };
  });
}

export function renderTraining(
  outcome: Outcome<TrainingResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 10. Training: epochs per second and online learning', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const d = outcome.data;
  const sklearnName = 'version' in d.sklearn ? `scikit-learn ${d.sklearn.version}` : 'scikit-learn';
  out.push(
    `The digits data set (all ${d.rows} rows of \`assets/datasets/digits.csv\`, ${d.features} pixel features standardized, ${d.classes} classes), ` +
      `an MLP ${d.features} → [${TRAINING_HIDDEN.join(', ')}] ReLU → ${d.classes} softmax trained with Adam (learning rate 1e-3, L2 1e-4, shuffled mini-batches, no validation split, no early stopping) by:`,
    '',
    `- **tend**: \`trainWithRuntime\`, the path \`tend train\` takes for an MLP: each epoch is one onnxruntime \`session.run\` of a graph that loops over the mini-batches ` +
      '(forward pass, hand-written backward pass and the Adam step in MLAS kernels, one intra-op thread). Timed around the whole call: preprocessing, graph building and session creation included.',
    `- **TypeScript**: \`trainModel\`, the same trainer in JavaScript on Float64Array (the path before onnxruntime; ${d.typescriptEpochs} epochs per timed fit).`,
    `- **${sklearnName}**: \`MLPClassifier(hidden_layer_sizes=(64,), solver='adam', tol=0, n_iter_no_change=N, early_stopping=False)\` in a \`${SKLEARN_PYTHON}\` child process ` +
      '(Debian python3-sklearn, NumPy on OpenBLAS), `fit` timed inside Python and divided by `n_iter_`.',
    '',
    `tend and scikit-learn train ${d.epochs} epochs per fit; the three alternate within each run; figures are medians of ${d.runs} run(s).`,
    '',
    `| batch size | tend epochs/s | ${sklearnName} epochs/s | ratio tend / scikit-learn | TypeScript epochs/s | ratio tend / TypeScript |`,
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const s of d.speed) {
    const sk =
      s.sklearn === null
        ? `NOT RUN${'missing' in d.sklearn ? ` — ${d.sklearn.missing}` : ''}`
        : rate(s.sklearn);
    out.push(
      `| ${s.batchSize} | ${rate(s.tend)} | ${sk} | ${s.sklearn === null ? '—' : fmtRatio(ratio(s.tend, s.sklearn))} | ${rate(s.typescript)} | ${fmtRatio(ratio(s.tend, s.typescript))} |`,
    );
  }
  const batch32 = d.speed.find((s) => s.batchSize === 32);
  out.push(
    '',
    '### Online learning',
    '',
    `\`OnlineLearner.learn\` on the digits MLP (first trained 3 epochs): one sample at a time, predict (progressive validation), then one SGD step, ` +
      `in TypeScript in the calling thread. ${d.online.samples.toLocaleString('en-US')} samples per run (shuffled passes over the rows), median of ${d.runs} run(s).`,
    '',
    '| samples/s | progressive accuracy | for scale: tend mini-batch training, batch 32 (rows/s) |',
    '| --- | --- | --- |',
    `| ${rate(d.online.samplesPerSecond)} | ${d.online.progressiveAccuracy.toFixed(3)} | ${batch32 ? rate(batch32.tend * d.rows) : '—'} |`,
    '',
  );
  return out;
}
