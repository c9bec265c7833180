import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from './builder.js';
import { checkModel } from './check.js';
import type { ModelProblem } from './check.js';
import { readModelFile } from './model.js';
import { create, OperatorSetIdProtoSchema, ValueInfoProtoSchema } from './proto.js';
import type { ModelProto } from './proto.js';

/** x [n, 3] → MatMul(W) → Add(b) → Relu → y [n, 2]. */
function model(): ModelProto {
  return new GraphBuilder('small')
    .input('x', 'FP32', ['n', 3])
    .output('y', 'FP32', ['n', 2])
    .initializer('W', new Float32Array(6), [3, 2])
    .initializer('b', new Float32Array(2), [2])
    .node('MatMul', ['x', 'W'], ['h'], {}, { name: 'mm' })
    .node('Add', ['h', 'b'], ['hb'], {}, { name: 'add' })
    .node('Relu', ['hb'], ['y'], {}, { name: 'relu' })
    .build();
}

const codes = (problems: ModelProblem[]) => problems.map((p) => `${p.severity}:${p.code}`);
const graphOf = (m: ModelProto) => {
  assert.ok(m.graph);
  return m.graph;
};

test('a well-formed model and the fixture models have no problems', () => {
  assert.deepEqual(checkModel(model()), []);
  for (const file of ['digits_mlp.onnx', 'small_cnn.onnx', 'tiny_text_encoder.onnx']) {
    assert.deepEqual(
      checkModel(readModelFile(new URL(`../../fixtures/models/${file}`, import.meta.url).pathname)),
      [],
      file,
    );
  }
});

test('inputs nothing defines and nodes out of topological order are errors', () => {
  const undefinedInput = model();
  graphOf(undefinedInput).node[1]?.input.splice(1, 1, 'ghost');
  const problems = checkModel(undefinedInput);
  assert.deepEqual(codes(problems), ['error:undefined_input', 'warning:unused_initializer']);
  assert.match(problems[0]?.message ?? '', /node 'add' \(Add\) reads 'ghost', which nothing defines/);

  const reordered = model();
  graphOf(reordered).node.reverse();
  assert.deepEqual(codes(checkModel(reordered)), ['error:not_topological', 'error:not_topological']);
  assert.match(
    checkModel(reordered)[0]?.message ?? '',
    /node 'relu' \(Relu\) reads 'hb' before the node that produces it/,
  );
});

test('names must be unique and graph outputs produced', () => {
  const twice = model();
  const g = graphOf(twice);
  const relu = g.node[2];
  assert.ok(relu);
  relu.name = 'add';
  g.node.push({ ...relu, name: 'relu2' });
  assert.deepEqual(codes(checkModel(twice)), ['error:duplicate_name', 'error:duplicate_name']);
  assert.match(
    checkModel(twice)
      .map((p) => p.message)
      .join('\n'),
    /node name 'add' is used twice[^]*output of .*'y' is defined twice/,
  );

  const missing = model();
  const type = graphOf(missing).output[0]?.type;
  assert.ok(type);
  graphOf(missing).output.push(create(ValueInfoProtoSchema, { name: 'z', type }));
  assert.deepEqual(codes(checkModel(missing)), ['error:output_not_produced']);
});

test('every domain a node uses needs exactly one opset import', () => {
  const custom = model();
  const relu = graphOf(custom).node[2];
  assert.ok(relu);
  relu.domain = 'com.example';
  assert.deepEqual(codes(checkModel(custom)), ['error:missing_opset']);
  assert.match(checkModel(custom)[0]?.message ?? '', /domain 'com.example', which the model does not import/);

  const doubled = model();
  doubled.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'ai.onnx', version: 13n }));
  assert.deepEqual(codes(checkModel(doubled)), ['error:duplicate_opset']);

  const none = model();
  none.opsetImport = [];
  assert.deepEqual(codes(checkModel(none)), [
    'error:missing_opset',
    'error:missing_opset',
    'error:missing_opset',
    'error:missing_opset',
  ]);
  const noGraph = model();
  delete noGraph.graph;
  assert.deepEqual(codes(checkModel(noGraph)), ['error:no_graph']);
});

test('initializers must hold the data their dims promise and values need types', () => {
  const short = model();
  const w = graphOf(short).initializer[0];
  assert.ok(w);
  w.rawData = w.rawData.subarray(0, 20);
  assert.match(checkModel(short)[0]?.message ?? '', /initializer 'W' has 20 bytes of raw data, dims need 24/);

  const typeless = model();
  const x = graphOf(typeless).input[0];
  assert.ok(x);
  delete x.type;
  assert.deepEqual(codes(checkModel(typeless)), ['error:missing_type']);
});

test('element types must agree along the edges, including the quantization operators', () => {
  const mixed = new GraphBuilder('mixed')
    .input('x', 'FP32', [2])
    .output('y', 'FP32', [2])
    .initializer('k', new BigInt64Array([1n, 2n]), [2])
    .node('Add', ['x', 'k'], ['y'])
    .build();
  assert.match(
    checkModel(mixed)[0]?.message ?? '',
    /inputs 'x' \(float\) and 'k' \(int64\) must have one type/,
  );

  const floatInteger = new GraphBuilder('mmi')
    .input('a', 'FP32', [2, 2])
    .output('y', 'INT32', [2, 2])
    .initializer('b', new Int8Array(4), [2, 2], 'INT8')
    .node('MatMulInteger', ['a', 'b'], ['y'])
    .build();
  assert.match(checkModel(floatInteger)[0]?.message ?? '', /input 'a' is float, expected int8 or uint8/);

  const wrongZeroPoint = new GraphBuilder('dq')
    .input('q', 'UINT8', [2])
    .output('y', 'FP32', [2])
    .initializer('s', new Float32Array([0.5]), [])
    .initializer('z', new Int8Array([0]), [], 'INT8')
    .node('DequantizeLinear', ['q', 's', 'z'], ['y'])
    .build();
  assert.deepEqual(codes(checkModel(wrongZeroPoint)), ['error:type_mismatch']);

  const declared = new GraphBuilder('cast')
    .input('x', 'FP32', [2])
    .output('y', 'FP32', [2])
    .node('Cast', ['x'], ['y'], { to: { int: 7 } })
    .build();
  assert.match(checkModel(declared)[0]?.message ?? '', /output 'y' is int64 but declared float/);

  const quantized = new GraphBuilder('dynamic')
    .input('x', 'FP32', [2, 2])
    .output('y', 'FP32', [2, 2])
    .initializer('w', new Int8Array(4), [2, 2], 'INT8')
    .initializer('wz', new Int8Array([0]), [], 'INT8')
    .initializer('ws', new Float32Array([0.1]), [])
    .node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz'])
    .node('MatMulInteger', ['xq', 'w', 'xz', 'wz'], ['acc'])
    .node('Cast', ['acc'], ['accf'], { to: { int: 1 } })
    .node('Mul', ['xs', 'ws'], ['s'])
    .node('Mul', ['accf', 's'], ['y'])
    .build();
  assert.deepEqual(checkModel(quantized), []);
});

test('nodes nobody reads and unused initializers are warnings', () => {
  const dead = new GraphBuilder('dead')
    .input('x', 'FP32', [2])
    .output('y', 'FP32', [2])
    .initializer('unused', new Float32Array(2), [2])
    .node('Relu', ['x'], ['y'])
    .node('Neg', ['x'], ['nobody'], {}, { name: 'orphan' })
    .build();
  const problems = checkModel(dead);
  assert.deepEqual(codes(problems), ['warning:dangling_output', 'warning:unused_initializer']);
  assert.match(problems[0]?.message ?? '', /node 'orphan' \(Neg\): none of its outputs \(nobody\) is read/);
});

test('subgraphs may read outer values but not undefined ones, and may not redefine outer names', () => {
  const branch = (reads: string, writes: string) =>
    new GraphBuilder('branch')
      .output(writes, 'FP32', [3, 2])
      .node('Identity', [reads], [writes])
      .buildGraph();
  const withIf = (then: string, thenOut: string) =>
    new GraphBuilder('if')
      .input('flag', 'BOOL', [])
      .output('out', 'FP32', [3, 2])
      .initializer('W', new Float32Array(6), [3, 2])
      .node('If', ['flag'], ['out'], {
        then_branch: { graph: branch(then, thenOut) },
        else_branch: { graph: branch('W', 'e') },
      })
      .build();
  assert.deepEqual(checkModel(withIf('W', 't')), []);
  const undefinedRead = checkModel(withIf('V', 't'));
  assert.deepEqual(codes(undefinedRead), ['error:undefined_input']);
  assert.match(
    undefinedRead[0]?.message ?? '',
    /subgraph 'branch': node 'Identity_0' \(Identity\) reads 'V'/,
  );
  assert.deepEqual(codes(checkModel(withIf('W', 'flag'))), ['error:duplicate_name']);
});
