import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { computeQuantParams, quantizeValue, quantizeWeight, roundHalfToEven } from './quantize-params.js';
import type { QuantRange } from './quantize-params.js';

interface WeightRecord {
  scale: number[];
  zero_point: number[];
  quantized: number[];
}

interface WeightCase {
  name: string;
  dims: number[];
  data: number[];
  axis: number | null;
  int8: WeightRecord;
  int8_reduce_range: WeightRecord;
  uint8: WeightRecord;
  int8_per_channel?: WeightRecord;
  int8_per_channel_reduce_range?: WeightRecord;
}

const FIXTURE = new URL('../../fixtures/optimize/quantize_reference.json', import.meta.url);
const reference = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { weight_cases: WeightCase[] };

function check(
  c: WeightCase,
  variant: string,
  expected: WeightRecord | undefined,
  range: QuantRange,
  axis: number | null,
) {
  assert.ok(expected, `${c.name}: fixture has ${variant}`);
  const q = quantizeWeight(new Float32Array(c.data), c.dims, range, axis);
  const what = `${c.name} ${variant}`;
  // Scales are float32 values on both sides, so they must be equal exactly.
  assert.deepEqual(
    q.params.map((p) => p.scale),
    expected.scale,
    `${what}: scales`,
  );
  assert.deepEqual(
    q.params.map((p) => p.zeroPoint),
    expected.zero_point,
    `${what}: zero points`,
  );
  assert.deepEqual(Array.from(q.values), expected.quantized, `${what}: quantized values`);
}

test('weight scales, zero points and values equal NumPy run on onnxruntime quantizer formulas', () => {
  assert.ok(reference.weight_cases.length >= 6);
  for (const c of reference.weight_cases) {
    check(c, 'int8', c.int8, { kind: 'int8', reduceRange: false }, null);
    check(c, 'int8_reduce_range', c.int8_reduce_range, { kind: 'int8', reduceRange: true }, null);
    check(c, 'uint8', c.uint8, { kind: 'uint8' }, null);
    if (c.axis !== null) {
      check(c, 'int8_per_channel', c.int8_per_channel, { kind: 'int8', reduceRange: false }, c.axis);
      check(
        c,
        'int8_per_channel_reduce_range',
        c.int8_per_channel_reduce_range,
        { kind: 'int8', reduceRange: true },
        c.axis,
      );
    }
  }
});

test('rounding goes half to even, like NumPy and the kernels', () => {
  assert.deepEqual(
    [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfToEven),
    [0, 2, 2, 0, -2, -2, 2, 3],
  );
});

test('symmetric int8 weights have zero point 0 and use [-127, 127], or [-64, 64] with reduce range', () => {
  const full = computeQuantParams(-0.5, 2.54, { kind: 'int8', reduceRange: false });
  assert.equal(full.zeroPoint, 0);
  assert.equal(full.scale, Math.fround(2.54 / 127));
  const reduced = computeQuantParams(-0.5, 2.54, { kind: 'int8', reduceRange: true });
  assert.equal(reduced.scale, Math.fround(2.54 / 64));
  assert.equal(quantizeValue(2.54, reduced, { kind: 'int8', reduceRange: true }), 64);
  assert.equal(quantizeValue(-2.54, full, { kind: 'int8', reduceRange: false }), -127);
});

test('an all-zero weight gets scale 1 and quantizes to zeros', () => {
  for (const range of [{ kind: 'int8', reduceRange: false }, { kind: 'uint8' }] as const) {
    const q = quantizeWeight(new Float32Array(4), [4], range, null);
    assert.deepEqual(q.params, [{ scale: 1, zeroPoint: 0 }]);
    assert.deepEqual(Array.from(q.values), [0, 0, 0, 0]);
  }
});

test('per-channel quantization gives each index of the axis its own scale', () => {
  // [2, 3] matrix: columns (axis 1) span 1, 10 and 100.
  const data = new Float32Array([1, -10, 50, -0.5, 5, -100]);
  const byColumn = quantizeWeight(data, [2, 3], { kind: 'int8', reduceRange: false }, 1);
  assert.deepEqual(
    byColumn.params.map((p) => p.scale),
    [1, 10, 100].map((m) => Math.fround(m / 127)),
  );
  assert.deepEqual(Array.from(byColumn.values), [127, -127, 64, -64, 64, -127]);
  const byRow = quantizeWeight(data, [2, 3], { kind: 'int8', reduceRange: false }, 0);
  assert.deepEqual(
    byRow.params.map((p) => p.scale),
    [50, 100].map((m) => Math.fround(m / 127)),
  );
});
