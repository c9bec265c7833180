import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType as OnnxType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { isTendError } from '../core/errors.js';
import type { DataType, Tensor } from '../core/tensor.js';
import { Runtime, createDirectSession, liveWorkerCount, type SessionSettings } from './index.js';
import { tempDir } from '../core/test-support.test-helper.js';

const ONNX_TYPE: Record<DataType, OnnxType> = {
  BOOL: OnnxType.BOOL,
  UINT8: OnnxType.UINT8,
  UINT16: OnnxType.UINT16,
  UINT32: OnnxType.UINT32,
  UINT64: OnnxType.UINT64,
  INT8: OnnxType.INT8,
  INT16: OnnxType.INT16,
  INT32: OnnxType.INT32,
  INT64: OnnxType.INT64,
  FP16: OnnxType.FLOAT16,
  FP32: OnnxType.FLOAT,
  FP64: OnnxType.DOUBLE,
  BYTES: OnnxType.STRING,
};

/** Sample data per datatype, including the extremes each type must carry unchanged. */
const SAMPLES: Record<DataType, () => Tensor['data']> = {
  BOOL: () => Uint8Array.of(1, 0, 1, 1),
  UINT8: () => Uint8Array.of(0, 1, 128, 255),
  UINT16: () => Uint16Array.of(0, 1, 40000, 65535),
  UINT32: () => Uint32Array.of(0, 1, 3_000_000_000, 4_294_967_295),
  UINT64: () => BigUint64Array.of(0n, 1n, 2n ** 63n, 2n ** 64n - 1n),
  INT8: () => Int8Array.of(-128, -1, 0, 127),
  INT16: () => Int16Array.of(-32768, -1, 0, 32767),
  INT32: () => Int32Array.of(-(2 ** 31), -1, 0, 2 ** 31 - 1),
  INT64: () => BigInt64Array.of(-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n),
  // 1.0, -2.0, largest finite half, smallest subnormal (raw IEEE-754 half bits)
  FP16: () => Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001),
  FP32: () => Float32Array.of(1.5, -0, 3.4e38, -1e-40),
  FP64: () => Float64Array.of(Math.PI, -0, Number.MAX_VALUE, Number.MIN_VALUE),
  BYTES: () => ['plain', '', 'ünïcödé ✓', 'tab\there'],
};

const TYPES = Object.keys(ONNX_TYPE) as DataType[];

function tensorInfo(name: string, type: OnnxType) {
  const batch = create(TensorShapeProto_DimensionSchema, { value: { case: 'dimParam', value: 'n' } });
  const two = create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: 2n } });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: type,
          shape: create(TensorShapeProtoSchema, { dim: [batch, two] }),
        }),
      },
    }),
  });
}

/** An ONNX model with one Identity node per datatype: in_<TYPE> [n, 2] → out_<TYPE> [n, 2]. */
function identityModel(): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: 'identity_per_type',
    node: TYPES.map((t) =>
      create(NodeProtoSchema, { opType: 'Identity', input: [`in_${t}`], output: [`out_${t}`] }),
    ),
    input: TYPES.map((t) => tensorInfo(`in_${t}`, ONNX_TYPE[t])),
    output: TYPES.map((t) => tensorInfo(`out_${t}`, ONNX_TYPE[t])),
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'tend-runtime-test',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph,
  });
  return toBinary(ModelProtoSchema, model);
}

function inputs(): Tensor[] {
  return TYPES.map((t) => ({ name: `in_${t}`, datatype: t, shape: [2, 2], data: SAMPLES[t]() }));
}

const SETTINGS: SessionSettings = { graphOptimizationLevel: 'basic', intraOpThreads: 1 };

test('every datatype round-trips through a worker thread, a child process and the in-process session unchanged', async () => {
  const dir = tempDir('dtypes');
  const modelPath = join(dir, 'identity.onnx');
  writeFileSync(modelPath, identityModel());
  const runtime = new Runtime();
  const direct = await createDirectSession(modelPath, SETTINGS);
  try {
    const model = await runtime.load({
      modelPath,
      label: 'identity:1',
      instances: 1,
      session: SETTINGS,
      warmup: inputs(),
    });
    assert.deepEqual(
      model.outputNames,
      TYPES.map((t) => `out_${t}`),
    );
    const viaWorker = await model.run(inputs());
    const isolated = await runtime.load({
      modelPath,
      label: 'identity:2',
      groups: [{ count: 1, isolation: 'process' }],
      session: SETTINGS,
      warmup: inputs(),
    });
    const viaProcess = await isolated.run(inputs());
    const inProcess = await direct.run(inputs());
    for (const outputs of [viaWorker.outputs, viaProcess.outputs, inProcess]) {
      assert.equal(outputs.length, TYPES.length);
      for (const [i, type] of TYPES.entries()) {
        const output = outputs[i]!;
        assert.equal(output.name, `out_${type}`);
        assert.equal(output.datatype, type);
        assert.deepEqual(output.shape, [2, 2]);
        assert.deepEqual(output.data, SAMPLES[type](), `${type} data`);
      }
    }
  } finally {
    await direct.release();
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveWorkerCount(), 0);
});

test('a string with a NUL character fails that run clearly instead of being truncated', async () => {
  const dir = tempDir('dtypes');
  const modelPath = join(dir, 'identity.onnx');
  writeFileSync(modelPath, identityModel());
  const runtime = new Runtime();
  try {
    const model = await runtime.load({
      modelPath,
      label: 'identity:1',
      instances: 1,
      session: SETTINGS,
      warmup: [],
    });
    const withNul = inputs().map((t) =>
      t.datatype === 'BYTES' ? { ...t, data: ['a', 'b\u0000c', 'd', 'e'] } : t,
    );
    await assert.rejects(model.run(withNul), (err: unknown) => {
      assert.ok(isTendError(err));
      assert.equal(err.code, 'TEND_INFERENCE_FAILED');
      assert.match(err.message, /in_BYTES.*element 1.*NUL/);
      return true;
    });
    assert.equal((await model.run(inputs())).outputs.length, TYPES.length);
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
