import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OptimizeRow } from './optimize.js';
import { optimizeTargets, type OptimizeSection } from './report-optimize.js';

function row(fp32Rounds: number[], int8Rounds: number[]): OptimizeRow {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;
  return {
    model: 'tiny_text_encoder',
    description: 'test',
    fp32Bytes: 1000,
    int8Bytes: 250,
    fp32: { 1: 100, 8: median(fp32Rounds) },
    int8: { 1: 150, 8: median(int8Rounds) },
    fp32Rounds: { 1: [100, 100, 100], 8: fp32Rounds },
    int8Rounds: { 1: [150, 150, 150], 8: int8Rounds },
    meanCosine: null,
    agreement: null,
    fusedKernels: [],
    rounds: fp32Rounds.length,
    quantizeMs: 10,
  };
}

const section = (r: OptimizeRow): OptimizeSection => ({
  rows: [r],
  skipped: [],
  digits: { testRows: 360, fp32Accuracy: 0.97, int8Accuracy: 0.97, weightRatio: 0.26, fileRatio: 0.3 },
});
const why = (): string => 'section not run';
const speedRow = (r: OptimizeRow) =>
  optimizeTargets({ data: section(r) }, why).find((t) => t.name.includes('batch 8'));

test('int8 speed-up rows carry A/A controls of both sides and are judged only when they hold', () => {
  const calm = speedRow(row([400, 404, 400, 404, 400], [600, 606, 600, 606, 600]));
  assert.equal(calm?.verdict, 'PASS'); // 1.5 ≥ 1.25
  assert.match(calm?.note ?? '', /A\/A 0\.99 \(fp32\), 0\.99 \(int8\)/);
  assert.match(calm?.target ?? '', /≥ 1\.25, A\/A within ±5%/);
  const slow = speedRow(row([400, 400, 400], [440, 440, 440]));
  assert.equal(slow?.verdict, 'FAIL'); // 1.1 < 1.25
  const noisy = speedRow(row([400, 480, 400, 480, 400], [600, 600, 600, 600, 600]));
  assert.equal(noisy?.verdict, 'INCONCLUSIVE');
  assert.match(noisy?.note ?? '', /too noisy to judge/);
});
