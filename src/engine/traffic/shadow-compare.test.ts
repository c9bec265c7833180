import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatToHalfBits } from '../../core/fp16.js';
import type { Tensor } from '../../core/tensor.js';
import { compareOutput, ShadowComparisons, summarizeOutput } from './shadow-compare.js';

const probs = (data: number[], rows: number, name = 'probs'): Tensor => ({
  name,
  datatype: 'FP32',
  shape: [rows, data.length / rows],
  data: Float32Array.from(data),
});
const FIXED_CLOCK = { now: () => new Date('2025-01-02T03:04:05.000Z') };
const PAIR = { champion: 1, shadow: 2 };

test('2-D float outputs agree by argmax per row; differences are absolute', () => {
  const champion = probs([0.1, 0.9, 0.8, 0.2, 0.5, 0.5], 3);
  const shadow = probs([0.3, 0.7, 0.4, 0.6, 0.5, 0.5], 3);
  const s = summarizeOutput(compareOutput(champion, shadow));
  assert.equal(s.rows, 3);
  assert.equal(s.agreeing_rows, 2); // row 1 flips; row 2 ties on both sides (first max wins)
  assert.equal(s.agreement_rate, 2 / 3);
  assert.equal(s.compared_values, 6);
  assert.ok(Math.abs((s.max_abs_diff ?? 0) - 0.4) < 1e-6);
  assert.ok(Math.abs((s.mean_abs_diff ?? 0) - (0.2 + 0.2 + 0.4 + 0.4) / 6) < 1e-6);
  assert.equal(s.structure_mismatches, 0);
});

test('integer and string outputs agree by exact equality per row', () => {
  const labels = (values: bigint[]): Tensor => ({
    name: 'label',
    datatype: 'INT64',
    shape: [values.length],
    data: BigInt64Array.from(values),
  });
  const s = summarizeOutput(compareOutput(labels([1n, 2n, 3n, 4n]), labels([1n, 2n, 0n, 4n])));
  assert.deepEqual([s.rows, s.agreeing_rows, s.agreement_rate], [4, 3, 0.75]);
  assert.equal(s.max_abs_diff, null); // no differences taken for labels
  assert.equal(s.mean_abs_diff, null);

  const words = (values: string[]): Tensor => ({ name: 'w', datatype: 'BYTES', shape: [2, 2], data: values });
  const w = summarizeOutput(compareOutput(words(['a', 'b', 'c', 'd']), words(['a', 'b', 'c', 'x'])));
  assert.deepEqual([w.rows, w.agreeing_rows], [2, 1]);

  const ints = (values: number[]): Tensor => ({
    name: 'i',
    datatype: 'INT32',
    shape: [],
    data: Int32Array.from(values),
  });
  assert.equal(summarizeOutput(compareOutput(ints([7]), ints([7]))).agreement_rate, 1);
});

test('1-D and single-column float outputs have differences but no agreement', () => {
  const reg = (values: number[]): Tensor => ({
    name: 'y',
    datatype: 'FP64',
    shape: [values.length, 1],
    data: Float64Array.from(values),
  });
  const s = summarizeOutput(compareOutput(reg([1, 2, 3]), reg([1, 2.5, 2])));
  assert.equal(s.rows, 0);
  assert.equal(s.agreement_rate, null);
  assert.equal(s.max_abs_diff, 1);
  assert.equal(s.mean_abs_diff, 0.5);
});

test('FP16 outputs are compared as numbers', () => {
  const half = (values: number[]): Tensor => ({
    name: 'h',
    datatype: 'FP16',
    shape: [1, values.length],
    data: Uint16Array.from(values, floatToHalfBits),
  });
  const s = summarizeOutput(compareOutput(half([0.5, 1.5]), half([0.25, 1.5])));
  assert.equal(s.max_abs_diff, 0.25);
  assert.equal(s.agreement_rate, 1);
});

test('NaN and infinities: equal ones match, others are counted apart from the differences', () => {
  const t = (values: number[]): Tensor => ({
    name: 'y',
    datatype: 'FP32',
    shape: [values.length],
    data: Float32Array.from(values),
  });
  const s = summarizeOutput(
    compareOutput(t([NaN, Infinity, 1, NaN, 2]), t([NaN, Infinity, 1.5, 3, -Infinity])),
  );
  assert.equal(s.non_finite_mismatches, 2);
  assert.equal(s.compared_values, 3);
  assert.equal(s.max_abs_diff, 0.5);
});

test('a missing output or another shape or datatype is a structure mismatch that agrees with nothing', () => {
  const champion = probs([0.1, 0.9, 0.8, 0.2], 2);
  const missing = summarizeOutput(compareOutput(champion, undefined));
  assert.deepEqual(
    [missing.structure_mismatches, missing.rows, missing.agreeing_rows, missing.max_abs_diff],
    [1, 2, 0, null],
  );
  const wrongShape = summarizeOutput(compareOutput(champion, probs([0.1, 0.9, 0.8, 0.2], 1)));
  assert.equal(wrongShape.structure_mismatches, 1);
  const wrongType = summarizeOutput(
    compareOutput(champion, {
      name: 'probs',
      datatype: 'FP64',
      shape: [2, 2],
      data: Float64Array.from([0.1, 0.9, 0.8, 0.2]),
    }),
  );
  assert.equal(wrongType.structure_mismatches, 1);
});

test('ShadowComparisons accumulates per endpoint and snapshots as snake_case JSON', () => {
  const c = new ShadowComparisons(FIXED_CLOCK);
  assert.deepEqual(c.snapshot(), {});
  const label = (v: number): Tensor => ({
    name: 'label',
    datatype: 'INT64',
    shape: [1],
    data: BigInt64Array.from([BigInt(v)]),
  });
  c.compare('digits', PAIR, [probs([0.2, 0.8], 1), label(1)], [probs([0.4, 0.6], 1), label(1)]);
  c.compare(
    'digits',
    PAIR,
    [probs([0.7, 0.3], 1), label(0)],
    [probs([0.1, 0.9], 1), label(1), probs([1], 1, 'extra')],
  );
  c.recordError('digits', PAIR, new Error('shadow worker crashed'));
  c.compare('other', { champion: 5, shadow: 6 }, [label(3)], [label(3)]);

  const snap = c.snapshot();
  assert.deepEqual(Object.keys(snap), ['digits', 'other']);
  const d = snap['digits']!;
  assert.equal(d.champion_version, 1);
  assert.equal(d.shadow_version, 2);
  assert.equal(d.since, '2025-01-02T03:04:05.000Z');
  assert.equal(d.count, 2);
  assert.equal(d.shadow_errors, 1);
  assert.equal(d.error_rate, 1 / 3);
  assert.equal(d.last_error, 'shadow worker crashed');
  assert.equal(d.agreement_rate, 2 / 4); // probs: 1 of 2 rows, label: 1 of 2
  assert.ok(Math.abs((d.max_abs_diff ?? 0) - 0.6) < 1e-6);
  assert.ok(Math.abs((d.mean_abs_diff ?? 0) - (0.2 + 0.2 + 0.6 + 0.6) / 4) < 1e-6);
  assert.deepEqual(Object.keys(d.outputs).sort(), ['label', 'probs']);
  assert.equal(d.outputs['label']?.agreement_rate, 0.5);
  assert.equal(snap['other']?.agreement_rate, 1);
  assert.equal(snap['other']?.error_rate, 0);
  assert.equal(snap['other']?.last_error, null);
  // Plain JSON: survives a round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
  assert.deepEqual(Object.keys(d).sort(), [
    'agreement_rate',
    'champion_version',
    'count',
    'deferred',
    'error_rate',
    'last_error',
    'max_abs_diff',
    'mean_abs_diff',
    'mirrored_share',
    'outputs',
    'shadow_errors',
    'shadow_version',
    'since',
    'skipped',
    'skipped_busy',
    'skipped_expired',
  ]);
});

test('a new pair of versions starts over; reset forgets', () => {
  const c = new ShadowComparisons(FIXED_CLOCK);
  c.compare('m', PAIR, [probs([1, 0], 1)], [probs([0, 1], 1)]);
  assert.equal(c.endpoint('m')?.agreement_rate, 0);
  c.compare('m', { champion: 1, shadow: 3 }, [probs([1, 0], 1)], [probs([1, 0], 1)]);
  assert.equal(c.endpoint('m')?.shadow_version, 3);
  assert.equal(c.endpoint('m')?.count, 1);
  assert.equal(c.endpoint('m')?.agreement_rate, 1);
  // An error alone also opens an entry, with nothing compared yet.
  c.recordError('n', PAIR, 'boom');
  assert.deepEqual(
    [
      c.endpoint('n')?.count,
      c.endpoint('n')?.error_rate,
      c.endpoint('n')?.agreement_rate,
      c.endpoint('n')?.last_error,
    ],
    [0, 1, null, 'boom'],
  );
  c.reset('m');
  assert.equal(c.endpoint('m'), undefined);
  assert.ok(c.endpoint('n'));
  c.reset();
  assert.deepEqual(c.snapshot(), {});
});
