/**
 * `tend explain` as a user runs it (a child process, in-process engine): KernelSHAP and LIME on the
 * digits MLP with its reference attached, the human and --json outputs, and the one-line errors
 * (no reference, bad --nsamples) with exit code 1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digitOf, digitPixels, evenRowsReferenceCsv, digitsTable } from './digits-data.js';
import { FIXTURE_MODELS, runCli, runCliJson, tempDir } from './helpers.js';

const DIGITS_MLP = join(FIXTURE_MODELS, 'digits_mlp.onnx');

let home: string;
let work: string;
let rowsCsv: string;

interface Response {
  model_name: string;
  method: string;
  nsamples: number;
  outputs: {
    name: string;
    classes: string[];
    base_value: number[];
    attributions: number[][][];
    local_r2?: number[][];
  }[];
}

before(() => {
  home = tempDir('cli-explain-home');
  work = tempDir('cli-explain-work');
  const reference = join(work, 'reference.csv');
  writeFileSync(reference, evenRowsReferenceCsv());
  rowsCsv = join(work, 'rows.csv');
  const header = digitsTable.columns.slice(0, 64).join(',');
  writeFileSync(rowsCsv, `${header}\n${digitPixels(1).join(',')}\n${digitPixels(3).join(',')}\n`);
  assert.equal(runCli(['push', DIGITS_MLP, '--name', 'digits'], { home }).status, 0);
  assert.equal(runCli(['push', DIGITS_MLP, '--name', 'bare'], { home }).status, 0);
  assert.equal(runCli(['monitor', 'reference', 'set', 'digits@1', reference], { home }).status, 0);
});

after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('tend explain', () => {
  test("KernelSHAP --json: one attribution row per CSV row; base + Σφ is largest for the row's digit", () => {
    const res = runCliJson(['explain', 'digits', '--data', rowsCsv, '--seed', '3'], {
      home,
    }) as Response;
    assert.equal(res.model_name, 'digits');
    assert.equal(res.method, 'kernel_shap');
    const out = res.outputs[0];
    assert.equal(out?.attributions.length, 2);
    assert.equal(out?.attributions[0]?.length, 10);
    assert.equal(out?.attributions[0]?.[0]?.length, 64);
    // f(x) = base + Σφ per class: the largest is the digit of the row (the MLP gets both rows right).
    [1, 3].forEach((row, r) => {
      const scores = (out?.attributions[r] ?? []).map(
        (phi, c) => (out?.base_value[c] ?? 0) + phi.reduce((a, b) => a + b, 0),
      );
      assert.equal(scores.indexOf(Math.max(...scores)), digitOf(row));
    });
  });

  test('the human output names the top class and its largest attributions; lime prints R²', () => {
    const shap = runCli(['explain', 'digits', '--data', rowsCsv], { home });
    assert.equal(shap.status, 0, shap.stderr);
    assert.match(shap.stdout, /^digits version 1: kernel_shap, \d+ samples/);
    assert.match(shap.stdout, /row 0 logits \d \(f\(x\) [-\d.]+, base [-\d.]+\): pixel_\d_\d [+-]/);
    const lime = runCli(['explain', 'digits', '--data', rowsCsv, '--method', 'lime', '--top-k', '3'], {
      home,
    });
    assert.equal(lime.status, 0, lime.stderr);
    assert.match(
      lime.stdout,
      /row 1 logits \d \(local [-\d.]+, R² 0\.\d+\): (pixel_\d_\d [+-][\d.e-]+, ){2}pixel_\d_\d [+-][\d.e-]+\n/,
    );
  });

  test('errors: no reference, nsamples 0, a bad flag value: one line, exit 1', () => {
    const bare = runCli(['explain', 'bare', '--data', rowsCsv], { home });
    assert.equal(bare.status, 1);
    assert.match(
      bare.stderr,
      /^error: model 'bare' version 1 has no reference data and the request gives no background: .*tend monitor reference set bare@1 FILE\.csv.*parameters\.background/,
    );
    const zero = runCli(['explain', 'digits', '--data', rowsCsv, '--nsamples', '0'], { home });
    assert.equal(zero.status, 1);
    assert.match(zero.stderr, /parameters\.nsamples must be a positive integer, got 0/);
    const bad = runCli(['explain', 'digits', '--data', rowsCsv, '--seed', 'x'], { home });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--seed must be an integer, got 'x'/);
  });
});
