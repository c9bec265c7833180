import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatBlocks } from './log-writer-blocks.js';
import { packBatch } from './log-writer-protocol.js';
import { predictionRow } from './prediction-log.test-helper.js';

test('a batch is laid out as one block per (model, version): each row’s features then scores', () => {
  const { batch } = packBatch([
    predictionRow({
      model: 'a',
      version: 1,
      features: new Float32Array([1, 2]),
      probabilities: new Float32Array([0.5]),
    }),
    predictionRow({ model: 'b', version: 1, features: null, probabilities: null }),
    predictionRow({ model: 'a', version: 2, features: new Float32Array([3]), probabilities: null }),
    predictionRow({ model: 'a', version: 1, features: null, probabilities: new Float32Array([0.25, 0.75]) }),
  ]);
  const blocks = floatBlocks(batch);
  assert.deepEqual(
    blocks.map((b) => ({ rows: b.rows, floatsAt: b.floatsAt, data: b.data === null ? null : [...b.data] })),
    [
      { rows: [0, 3], floatsAt: [0, 3], data: [1, 2, 0.5, 0.25, 0.75] },
      { rows: [1], floatsAt: [0], data: null },
      { rows: [2], floatsAt: [0], data: [3] },
    ],
  );
});
