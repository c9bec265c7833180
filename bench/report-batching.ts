/**
 * The batching target's rows and its report section (3b): served items/s over raw onnxruntime at
 * its best batch, each ratio printed with its A/A controls. A target is judged only when both
 * controls are within ±5% of 1; otherwise the machine moved a ratio of like by like as much as the
 * margin being judged, and the row says INCONCLUSIVE (which fails the bench like a FAIL: a target
 * not shown to pass is not passed). So it does when other processes still disturbed most samples
 * of a side after their repeats.
 */
import type { BatchingTargetModel, TargetSample } from './batching-target.js';
import type { Outcome, TargetRow } from './report-rows.js';
import { dataOf } from './report-rows.js';
import { ratio } from './statistics.js';

/** served / raw at its best batch must reach this. */
export const BATCHING_TARGET_RATIO = 0.95;
/** The A/A controls must be within this of 1 for the target to be judged. */
export const CONTROL_TOLERANCE = 0.05;

export interface BatchingTargetSection {
  models: BatchingTargetModel[];
  /** Models of the section whose files are absent. */
  skippedModels: string[];
}

const fmtRate = (x: number): string => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const fmtRatio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');
const fmtControl = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');

/** True when an A/A control is close enough to 1 for a ratio to mean something. */
export function controlHolds(control: number): boolean {
  return Number.isFinite(control) && Math.abs(control - 1) <= CONTROL_TOLERANCE;
}

/** True when at most half of the samples were still disturbed by other processes after their repeats. */
export function mostlyUndisturbed(samples: readonly TargetSample[]): boolean {
  return samples.filter((x) => x.disturbed).length * 2 <= samples.length;
}

/** One target row per model (and one NOT RUN row per skipped model or when the section did not run). */
export function batchingTargets(
  outcome: Outcome<BatchingTargetSection> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  const target = `≥ ${BATCHING_TARGET_RATIO.toFixed(2)}, A/A within ±${(CONTROL_TOLERANCE * 100).toFixed(0)}%`;
  const name = (model: string): string =>
    `${model} with dynamic batching, 16 batch-1 binary clients (items/s)`;
  const section = dataOf(outcome);
  if (section === undefined) {
    return [
      {
        name: name('each batching model'),
        figure: '—',
        baseline: '—',
        ratio: Number.NaN,
        target,
        verdict: 'NOT RUN',
        note: whyMissing(outcome),
      },
    ];
  }
  const rows: TargetRow[] = section.models.map((m) => {
    const r = ratio(m.servedItemsPerSecond, m.rawItemsPerSecond);
    const controls = `A/A raw ${fmtControl(m.rawControl)}, tend ${fmtControl(m.servedControl)}`;
    const controlsHold = controlHolds(m.rawControl) && controlHolds(m.servedControl);
    const undisturbed =
      mostlyUndisturbed(m.rounds.flatMap((x) => x.raw)) &&
      mostlyUndisturbed(m.rounds.flatMap((x) => x.served));
    const quiet = controlsHold && undisturbed;
    const clean = m.failures === 0;
    const verdict = !clean ? 'FAIL' : !quiet ? 'INCONCLUSIVE' : r >= BATCHING_TARGET_RATIO ? 'PASS' : 'FAIL';
    return {
      name: name(m.model),
      figure:
        `${fmtRate(m.servedItemsPerSecond)} (delay ${m.delayUs} µs, preferred batch ${m.preferredBatchSize}, ` +
        `mean batch ${m.meanBatchSize?.toFixed(1) ?? '—'})` +
        (clean ? '' : ` (${m.failures} failed)`),
      baseline: `${fmtRate(m.rawItemsPerSecond)} (raw ORT, batch ${m.rawBatch}, no server running)`,
      ratio: r,
      target,
      verdict,
      note: [
        controls,
        ...(clean ? [] : ['requests failed']),
        ...(clean && !controlsHold ? ['too noisy to judge: an A/A control is off by more than 5%'] : []),
        ...(clean && !undisturbed
          ? ['too noisy to judge: other processes took CPU during most samples of one side']
          : []),
      ].join('; '),
    };
  });
  for (const model of section.skippedModels) {
    rows.push({
      name: name(model),
      figure: '—',
      baseline: '—',
      ratio: Number.NaN,
      target,
      verdict: 'NOT RUN',
      note: `${model}.onnx is absent`,
    });
  }
  return rows;
}

function table(header: string[], body: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}

const sample = (s: TargetSample): string =>
  `${fmtRate(s.itemsPerSecond)}${s.disturbed ? ' (disturbed)' : ''}${s.failures > 0 ? ` (${s.failures} failed)` : ''}`;

/** Section 3b of BENCHMARKS.md. */
export function renderBatchingTarget(
  outcome: Outcome<BatchingTargetSection> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  if (outcome === undefined) return [];
  const out: string[] = ['### 3b. The batching target: served vs raw onnxruntime, with A/A controls', ''];
  const section = dataOf(outcome);
  if (section === undefined) return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  out.push(
    'Raw onnxruntime runs in the bench process at the best batch of section 2 (intra-op threads as the served model) while ' +
      '**no server process exists**; the served model gets 16 wrk connections sending batch-1 requests as V2 binary tensors to ' +
      'a fresh `tend serve` per round (one worker-thread instance, `max_batch_size` 16, delay 0, `preferred_batch_size` the ' +
      "sweep's best batch among those up to 8, so that one batch can wait in the worker while another runs). " +
      'Each round takes two samples of each side, raw first in odd rounds and served first in even ones; a sample during which other processes used more than ' +
      '0.15 cores is measured again (up to 3 times) and left out of the medians when still disturbed. ' +
      'The ratio is the median of the served samples over the median of the raw ones. The A/A controls divide the median of ' +
      "each side's first samples by that of its second samples: what noise alone does to a ratio of like by like. " +
      `A target is judged only when both controls are within ±${(CONTROL_TOLERANCE * 100).toFixed(0)}% and at most half of ` +
      "each side's samples stayed disturbed; otherwise it reads " +
      'INCONCLUSIVE, which fails the bench as a FAIL does. The target covers the compute-bound encoders; small_cnn is left ' +
      "out because its per-item compute is below one HTTP request's cost, so its ratio would measure the frontend (section 5).",
    '',
  );
  for (const m of section.models) {
    out.push(
      `**${m.model}** (runs of ${m.runSeconds} s served, ${m.runSeconds / 2} s raw; sweep best ${fmtRate(m.sweepItemsPerSecond)} items/s at batch ${m.rawBatch})`,
      '',
      table(
        ['round', 'raw a', 'raw b', 'served a', 'served b', 'served / raw'],
        [
          ...m.rounds.map((r, i) => [
            `${i + 1} (${r.rawFirst ? 'raw first' : 'served first'})`,
            sample(r.raw[0]),
            sample(r.raw[1]),
            sample(r.served[0]),
            sample(r.served[1]),
            fmtRatio(
              ratio(
                (r.served[0].itemsPerSecond + r.served[1].itemsPerSecond) / 2,
                (r.raw[0].itemsPerSecond + r.raw[1].itemsPerSecond) / 2,
              ),
            ),
          ]),
          [
            '**median**',
            `**${fmtRate(m.rawItemsPerSecond)}** (A/A ${fmtControl(m.rawControl)})`,
            '',
            `**${fmtRate(m.servedItemsPerSecond)}** (A/A ${fmtControl(m.servedControl)})`,
            '',
            `**${fmtRatio(ratio(m.servedItemsPerSecond, m.rawItemsPerSecond))}**`,
          ],
        ],
      ),
      '',
    );
  }
  return out;
}
