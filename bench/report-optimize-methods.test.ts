import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MethodRow } from './optimize-methods.js';
import { methodTargets, renderMethods } from './report-optimize-methods.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;

function cnnRow(fp32Rounds: number[], int8Rounds: number[]): MethodRow {
  return {
    model: 'small_cnn',
    method: 'int8-static',
    parentBytes: 1000,
    candidateBytes: 300,
    parentParameters: 100,
    candidateParameters: 100,
    batches: [8],
    parent: { 8: median(fp32Rounds) },
    candidate: { 8: median(int8Rounds) },
    parentRounds: { 8: fp32Rounds },
    candidateRounds: { 8: int8Rounds },
    meanCosine: 0.99,
    agreement: 0.99,
    accuracy: null,
    quantizedKernels: { 'com.microsoft.QLinearConv': 2, 'com.microsoft.QGemm': 1 },
    rounds: fp32Rounds.length,
  };
}

const find = (rows: ReturnType<typeof methodTargets>, part: string) =>
  rows.find((r) => r.name.includes(part));

test('int8-static speed row: judged only when both A/A controls hold, the goal in the note', () => {
  const calm = find(
    methodTargets([cnnRow([400, 404, 400, 404, 400], [520, 525, 520, 525, 520])], false),
    'batch 8',
  );
  assert.equal(calm?.verdict, 'PASS');
  assert.match(calm?.note ?? '', /A\/A 0\.99 \(fp32\), 0\.99 \(int8-static\)/);
  assert.match(calm?.note ?? '', /short of the 1\.5× goal/);
  const noisy = find(
    methodTargets([cnnRow([400, 300, 400, 300, 400], [600, 600, 600, 600, 600])], false),
    'batch 8',
  );
  assert.equal(noisy?.verdict, 'INCONCLUSIVE');
  const slower = find(methodTargets([cnnRow([400, 400, 400], [300, 300, 300])], false), 'batch 8');
  assert.equal(slower?.verdict, 'FAIL');
  const kernels = find(methodTargets([cnnRow([1, 1], [1, 1])], false), 'QLinearConv');
  assert.equal(kernels?.verdict, 'PASS');
  assert.equal(kernels?.figure, 'QLinearConv ×2, QGemm ×1');
});

test('pruned digits rows: parameters, size, best batch of each side, accuracy drop; fp16 NOT RUN without the encoder', () => {
  const pruned: MethodRow = {
    ...cnnRow([1, 1], [1, 1]),
    model: 'digits',
    method: 'prune-structured-finetuned',
    parentParameters: 2500,
    candidateParameters: 1300,
    batches: [1, 256],
    parent: { 1: 100, 256: 1000 },
    candidate: { 1: 120, 256: 1500 },
    parentRounds: { 1: [100, 100], 256: [1000, 1000, 1000] },
    candidateRounds: { 1: [120, 120], 256: [1500, 1500, 1500] },
    accuracy: { parent: 0.978, candidate: 0.972, beforeFinetune: 0.738, rows: 540 },
    quantizedKernels: {},
  };
  const rows = methodTargets([pruned], true);
  assert.equal(find(rows, 'parameters')?.verdict, 'PASS');
  const speed = find(rows, 'best-batch');
  assert.match(speed?.name ?? '', /fp32 at 256, pruned at 256/);
  assert.equal(speed?.ratio, 1.5);
  assert.equal(speed?.verdict, 'PASS');
  const acc = find(rows, 'accuracy');
  assert.equal(acc?.verdict, 'PASS');
  assert.match(acc?.note ?? '', /before fine-tuning 73\.80%/);
  assert.equal(find(rows, 'fp16')?.verdict, 'NOT RUN');
  assert.match(renderMethods([pruned]).join('\n'), /\| digits \| prune-structured-finetuned \| 256 \|/);
  assert.deepEqual(methodTargets(undefined, true), []);
});
