import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from './builder.js';
import { readModel, writeModel } from './model.js';
import { extractModelInfo } from './signature.js';
import { tensorProto } from './tensor-data.js';
import { AttributeProto_AttributeType as AttrType } from './proto.js';
import { isTendError } from '../core/errors.js';

const invalidArgument = (pattern: RegExp) => (e: unknown) =>
  isTendError(e) && e.code === 'TEND_INVALID_ARGUMENT' && pattern.test(e.message);

// A 3 → 4 classifier: probs = softmax(relu(x·W + b)), label = argmax(probs), flat = reshape(probs, [-1]).
const W = [0.5, -1, 2, 0, 1, 0.25, -0.5, 1.5, -2, 1, 0.75, -0.25]; // [3, 4], row-major
const B = [0.1, 0.2, -0.3, 0];
const CLASSES = ['cat', 'dog', 'owl', 'eel'];

function classifier() {
  return new GraphBuilder('classifier')
    .input('x', 'FP32', ['batch', 3])
    .output('probs', 'FP32', ['batch', 4])
    .output('label', 'INT64', ['batch'])
    .output('flat', 'FP32', [''])
    .initializer('W', new Float32Array(W), [3, 4])
    .initializer('b', new Float32Array(B), [4])
    .node('Gemm', ['x', 'W', 'b'], ['h'], { alpha: { float: 1 }, beta: { float: 1 }, transB: { int: 0 } })
    .node('Relu', ['h'], ['r'])
    .node('Softmax', ['r'], ['probs'], { axis: { int: 1 } })
    .node('ArgMax', ['probs'], ['label'], { axis: { int: 1 }, keepdims: { int: 0 } })
    .node('Constant', [], ['shape'], {
      value: { tensor: tensorProto('shape', new BigInt64Array([-1n]), [1]) },
    })
    .node('Reshape', ['probs', 'shape'], ['flat'])
    .build({
      metadata: { classes: JSON.stringify(CLASSES) },
      producerVersion: '0.1.0',
      docString: 'a test model',
    });
}

function byHand(x: number[][]): { probs: number[][]; label: number[] } {
  const probs = x.map((row) => {
    const r = B.map((bias, j) =>
      Math.max(0, bias + row.reduce((s, xi, i) => s + xi * (W[i * 4 + j] ?? NaN), 0)),
    );
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const sum = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / sum);
  });
  return { probs, label: probs.map((p) => p.indexOf(Math.max(...p))) };
}

test('a built classifier runs in onnxruntime and gives the values computed by hand', async () => {
  const bytes = writeModel(classifier());
  const session = await ort.InferenceSession.create(bytes);
  try {
    const x = [
      [1, 2, 3],
      [-1, 0, 0.5],
      [0, 0, 0],
    ];
    const feeds = { x: new ort.Tensor('float32', new Float32Array(x.flat()), [3, 3]) };
    const out = await session.run(feeds);
    const expected = byHand(x);
    const probs = out['probs'];
    const label = out['label'];
    const flat = out['flat'];
    assert.ok(probs && label && flat);
    assert.deepEqual(probs.dims, [3, 4]);
    const got = Array.from(probs.data as Float32Array);
    expected.probs
      .flat()
      .forEach((p, i) => assert.ok(Math.abs((got[i] ?? NaN) - p) < 1e-6, `probs[${i}] ${got[i]} vs ${p}`));
    assert.deepEqual(label.type, 'int64');
    assert.deepEqual(Array.from(label.data as BigInt64Array, Number), expected.label);
    assert.deepEqual(flat.dims, [12]);
    assert.deepEqual(Array.from(flat.data as Float32Array), got);
  } finally {
    await session.release();
  }
});

test('the info of a built model survives a write and read', () => {
  const info = extractModelInfo(readModel(writeModel(classifier())));
  assert.deepEqual(info, {
    signature: {
      inputs: [{ name: 'x', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 3] }],
      outputs: [
        { name: 'probs', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 4] },
        { name: 'label', datatype: 'INT64', onnx_type: 'tensor(int64)', shape: ['batch'] },
        { name: 'flat', datatype: 'FP32', onnx_type: 'tensor(float)', shape: [''] },
      ],
    },
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'tend',
    producer_version: '0.1.0',
    graph_name: 'classifier',
    doc_string: 'a test model',
    metadata: { classes: '["cat","dog","owl","eel"]' },
  });
});

test('nodes get unique default names and attributes their ONNX types', () => {
  const graph = new GraphBuilder('names')
    .input('x', 'FP32', [2])
    .output('z', 'FP32', [2])
    .node('Relu', ['x'], ['a'], {}, { name: 'Relu_1' })
    .node('Relu', ['a'], ['b'])
    .node('Relu', ['b'], ['c'])
    .node('Identity', ['c'], ['z'], {
      s: { string: 'hé' },
      ss: { strings: ['a', 'b'] },
      fs: { floats: [0.5, 2] },
      is: { ints: [1, -2] },
    })
    .buildGraph();
  assert.deepEqual(
    graph.node.map((n) => n.name),
    ['Relu_1', 'Relu_0', 'Relu_2', 'Identity_0'],
  );
  const attrs = graph.node[3]?.attribute ?? [];
  assert.deepEqual(
    attrs.map((a) => [a.name, a.type]),
    [
      ['s', AttrType.STRING],
      ['ss', AttrType.STRINGS],
      ['fs', AttrType.FLOATS],
      ['is', AttrType.INTS],
    ],
  );
  assert.equal(new TextDecoder().decode(attrs[0]?.s), 'hé');
  assert.deepEqual(attrs[3]?.ints, [1n, -2n]);
});

test('nodes of other domains get an opset import', () => {
  const model = new GraphBuilder('ml')
    .input('x', 'FP32', ['batch', 2])
    .output('y', 'FP32', ['batch', 2])
    .node('Normalizer', ['x'], ['y'], { norm: { string: 'L1' } }, { domain: 'ai.onnx.ml' })
    .build({ opset: 18, domainOpsets: { 'com.microsoft': 1 } });
  assert.deepEqual(extractModelInfo(model).opset_import, [
    { domain: '', version: 18 },
    { domain: 'ai.onnx.ml', version: 3 },
    { domain: 'com.microsoft', version: 1 },
  ]);
});

test('the builder rejects malformed graphs with TEND_INVALID_ARGUMENT', () => {
  const base = () => new GraphBuilder('bad').input('x', 'FP32', [2]).output('y', 'FP32', [2]);
  assert.throws(() => base().node('Relu', ['nope'], ['y']).build(), invalidArgument(/reads 'nope'/));
  assert.throws(
    () => base().node('Relu', ['x'], ['z']).build(),
    invalidArgument(/output 'y' is not produced/),
  );
  assert.throws(() => base().input('x', 'FP32', [1]), invalidArgument(/already has a value named 'x'/));
  assert.throws(() => base().output('y', 'FP32', [1]), invalidArgument(/already has an output 'y'/));
  assert.throws(() => base().node('Relu', ['x'], ['x']), invalidArgument(/already has a value named 'x'/));
  assert.throws(
    () => base().node('Relu', ['x'], ['a'], {}, { name: 'n' }).node('Relu', ['a'], ['y'], {}, { name: 'n' }),
    invalidArgument(/node named 'n'/),
  );
  assert.throws(
    () => base().initializer('w', new Float32Array(3), [2, 2]),
    invalidArgument(/has 3 elements but dims \[2, 2\] need 4/),
  );
  assert.throws(
    () => base().initializer('w', new Float32Array(2), [2], 'INT32'),
    invalidArgument(/Float32Array cannot hold INT32/),
  );
  assert.throws(
    () => base().initializer('w', new Float32Array(2), [2.5]),
    invalidArgument(/invalid dimension 2.5/),
  );
  assert.throws(
    () => base().node('Relu', ['x'], ['y'], { k: { int: 1.5 } }),
    invalidArgument(/must be an integer/),
  );
  assert.throws(() => base().input('z', 'FP32', [1.5]), invalidArgument(/must be an integer/));
});
