import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import {
  StringStringEntryProtoSchema,
  TensorProto_DataType as Elem,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_MapSchema,
  TypeProto_OptionalSchema,
  TypeProto_SequenceSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from './proto.js';
import type { TypeProto } from './proto.js';
import { fileURLToPath } from 'node:url';
import { readModelFile } from './model.js';
import { extractModelInfo, onnxTypeName, tensorSpecOf, dataTypeFromOnnx, onnxElemType } from './signature.js';
import { GraphBuilder } from './builder.js';
import { DATA_TYPES } from '../core/tensor.js';
import { isTendError } from '../core/errors.js';

const MODELS = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

test('digits_mlp declares pixels FP32 [batch, 64] → logits FP32 [batch, 10]', () => {
  const info = extractModelInfo(readModelFile(`${MODELS}digits_mlp.onnx`));
  assert.deepEqual(info, {
    signature: {
      inputs: [{ name: 'pixels', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 64] }],
      outputs: [{ name: 'logits', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 10] }],
    },
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'pytorch',
    producer_version: '1.13.0',
    graph_name: 'torch_jit',
    doc_string: '',
    metadata: {},
  });
});

test('small_cnn declares image FP32 [batch, 3, 32, 32]', () => {
  const { signature } = extractModelInfo(readModelFile(`${MODELS}small_cnn.onnx`));
  assert.deepEqual(signature.inputs, [
    { name: 'image', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 3, 32, 32] },
  ]);
  assert.deepEqual(signature.outputs, [
    { name: 'logits', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 10] },
  ]);
});

test('tiny_text_encoder declares INT64 [batch, seq] inputs and opset 14', () => {
  const info = extractModelInfo(readModelFile(`${MODELS}tiny_text_encoder.onnx`));
  assert.deepEqual(info.signature, {
    inputs: [
      { name: 'input_ids', datatype: 'INT64', onnx_type: 'tensor(int64)', shape: ['batch', 'seq'] },
      { name: 'attention_mask', datatype: 'INT64', onnx_type: 'tensor(int64)', shape: ['batch', 'seq'] },
    ],
    outputs: [{ name: 'embedding', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 128] }],
  });
  assert.equal(info.ir_version, 7);
  assert.deepEqual(info.opset_import, [{ domain: '', version: 14 }]);
});

test('every V2 datatype maps to an ONNX element type and back', () => {
  for (const dt of DATA_TYPES) assert.equal(dataTypeFromOnnx(onnxElemType(dt)), dt);
  assert.equal(onnxElemType('FP32'), Elem.FLOAT);
  assert.equal(onnxElemType('BYTES'), Elem.STRING);
  assert.equal(onnxTypeName(Elem.FLOAT16), 'float16');
  assert.equal(onnxTypeName(999), 'elem_type(999)');
});

function tensorType(elemType: number, dims?: (number | string | null)[]): TypeProto {
  const t = create(TypeProto_TensorSchema, { elemType });
  if (dims) {
    t.shape = create(TensorShapeProtoSchema, {
      dim: dims.map((d) => {
        const dim = create(TensorShapeProto_DimensionSchema);
        if (typeof d === 'number') dim.value = { case: 'dimValue', value: BigInt(d) };
        else if (typeof d === 'string') dim.value = { case: 'dimParam', value: d };
        return dim;
      }),
    });
  }
  return create(TypeProtoSchema, { value: { case: 'tensorType', value: t } });
}

function spec(name: string, type?: TypeProto) {
  return tensorSpecOf(create(ValueInfoProtoSchema, type === undefined ? { name } : { name, type }));
}

test('types without a V2 datatype keep their ONNX type string', () => {
  assert.deepEqual(spec('a', tensorType(Elem.BFLOAT16, [2])), {
    name: 'a',
    datatype: null,
    onnx_type: 'tensor(bfloat16)',
    shape: [2],
  });
  assert.equal(spec('b', tensorType(Elem.FLOAT8E4M3FN, [])).onnx_type, 'tensor(float8e4m3fn)');
  assert.equal(spec('c', tensorType(Elem.INT4)).onnx_type, 'tensor(int4)');
  assert.equal(spec('d', tensorType(Elem.COMPLEX64)).datatype, null);

  const seq = create(TypeProtoSchema, {
    value: {
      case: 'sequenceType',
      value: create(TypeProto_SequenceSchema, { elemType: tensorType(Elem.FLOAT, [3]) }),
    },
  });
  assert.deepEqual(spec('s', seq), {
    name: 's',
    datatype: null,
    onnx_type: 'seq(tensor(float))',
    shape: null,
  });

  const map = create(TypeProtoSchema, {
    value: {
      case: 'mapType',
      value: create(TypeProto_MapSchema, { keyType: Elem.INT64, valueType: tensorType(Elem.FLOAT) }),
    },
  });
  assert.deepEqual(spec('m', map), {
    name: 'm',
    datatype: null,
    onnx_type: 'map(int64,tensor(float))',
    shape: null,
  });

  const seqOfMaps = create(TypeProtoSchema, {
    value: { case: 'sequenceType', value: create(TypeProto_SequenceSchema, { elemType: map }) },
  });
  assert.equal(spec('sm', seqOfMaps).onnx_type, 'seq(map(int64,tensor(float)))');

  const opt = create(TypeProtoSchema, {
    value: {
      case: 'optionalType',
      value: create(TypeProto_OptionalSchema, { elemType: tensorType(Elem.INT32, [1]) }),
    },
  });
  assert.deepEqual(spec('o', opt), {
    name: 'o',
    datatype: null,
    onnx_type: 'optional(tensor(int32))',
    shape: null,
  });
  assert.deepEqual(spec('u'), { name: 'u', datatype: null, onnx_type: 'unknown', shape: null });
});

test('shapes: sizes, symbolic names, anonymous dims, scalars and missing shapes', () => {
  assert.deepEqual(spec('x', tensorType(Elem.UINT8, [null, 'n', 7])).shape, ['', 'n', 7]);
  assert.deepEqual(spec('x', tensorType(Elem.BOOL, [])).shape, []);
  assert.deepEqual(spec('x', tensorType(Elem.STRING)), {
    name: 'x',
    datatype: 'BYTES',
    onnx_type: 'tensor(string)',
    shape: null,
  });
});

test('graph inputs that are initializers are not part of the signature', () => {
  const model = new GraphBuilder('old_style')
    .input('x', 'FP32', ['batch', 2])
    .output('y', 'FP32', ['batch', 2])
    .initializer('w', new Float32Array([1, 2]), [2])
    .node('Mul', ['x', 'w'], ['y'])
    .build();
  // Exporters before IR 4 also listed every weight as a graph input.
  const asInput = create(ValueInfoProtoSchema, { name: 'w', type: tensorType(Elem.FLOAT, [2]) });
  model.graph?.input.push(asInput);
  const info = extractModelInfo(model);
  assert.deepEqual(
    info.signature.inputs.map((i) => i.name),
    ['x'],
  );
});

test('metadata keys stay plain data and a model without a graph is rejected', () => {
  const model = new GraphBuilder('g')
    .input('x', 'FP32', [1])
    .output('y', 'FP32', [1])
    .node('Identity', ['x'], ['y'])
    .build({ metadata: { classes: '["a"]' } });
  model.metadataProps.push(create(StringStringEntryProtoSchema, { key: '__proto__', value: 'p' }));
  const { metadata } = extractModelInfo(model);
  assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
  assert.deepEqual(Object.keys(metadata), ['classes', '__proto__']);
  assert.equal(metadata['__proto__'], 'p');
  delete model.graph;
  assert.throws(
    () => extractModelInfo(model),
    (e: unknown) => isTendError(e) && e.code === 'TEND_INVALID_MODEL',
  );
});
