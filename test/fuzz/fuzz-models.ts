/**
 * The models the fuzzed server serves, pushed into a fresh registry home: the digits MLP (FP32),
 * a model with INT64, BOOL, BYTES, FP16 and UINT8 inputs, a lookup table that onnxruntime refuses
 * out-of-range indices for (runtime errors), and `victim`, two versions the management routes may
 * unload, route and alias at will. The fuzzer's tensor knowledge lives in MODEL_INPUTS.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { DataType } from '../../src/core/tensor.js';
import { GraphBuilder, writeModel } from '../../src/onnx/index.js';
import { Registry } from '../../src/registry/index.js';
import { FIXTURE_MODELS, tempDir } from '../helpers.js';

/** One input as the generators see it: name, datatype and the shape after the batch dimension. */
export interface FuzzInputSpec {
  name: string;
  datatype: DataType;
  /** Dimensions after the batch dimension. */
  inner: number[];
}

export interface FuzzModelSpec {
  name: string;
  inputs: FuzzInputSpec[];
  outputs: string[];
  /** A valid request must answer 200 (false where a batch neighbour can fail the batch). */
  strict: boolean;
}

export const MAX_BATCH = 8;

export const MODELS: readonly FuzzModelSpec[] = [
  {
    name: 'digits',
    inputs: [{ name: 'pixels', datatype: 'FP32', inner: [64] }],
    outputs: ['logits'],
    strict: true,
  },
  {
    name: 'mixed',
    inputs: [
      { name: 'ids', datatype: 'INT64', inner: [4] },
      { name: 'flag', datatype: 'BOOL', inner: [1] },
      { name: 'text', datatype: 'BYTES', inner: [1] },
      { name: 'half', datatype: 'FP16', inner: [2] },
      { name: 'small', datatype: 'UINT8', inner: [3] },
    ],
    outputs: ['ids_sum', 'flag_not', 'text_out', 'half_out', 'small_float'],
    strict: true,
  },
  // A Gather with an index outside 0..9 fails the whole batch it is in, so a valid request may
  // share the fate of a hostile neighbour: not strict.
  { name: 'lookup', inputs: [{ name: 'x', datatype: 'INT64', inner: [1] }], outputs: ['y'], strict: false },
  {
    name: 'victim',
    inputs: [{ name: 'pixels', datatype: 'FP32', inner: [64] }],
    outputs: ['logits'],
    strict: false,
  },
];

function mixedModel(): Uint8Array {
  return writeModel(
    new GraphBuilder('mixed')
      .input('ids', 'INT64', ['batch', 4])
      .input('flag', 'BOOL', ['batch', 1])
      .input('text', 'BYTES', ['batch', 1])
      .input('half', 'FP16', ['batch', 2])
      .input('small', 'UINT8', ['batch', 3])
      .output('ids_sum', 'INT64', ['batch', 1])
      .output('flag_not', 'BOOL', ['batch', 1])
      .output('text_out', 'BYTES', ['batch', 1])
      .output('half_out', 'FP16', ['batch', 2])
      .output('small_float', 'FP32', ['batch', 3])
      .initializer('axes', new BigInt64Array([1n]), [1])
      .node('ReduceSum', ['ids', 'axes'], ['ids_sum'], { keepdims: { int: 1 } })
      .node('Not', ['flag'], ['flag_not'])
      .node('Identity', ['text'], ['text_out'])
      .node('Identity', ['half'], ['half_out'])
      .node('Cast', ['small'], ['small_float'], { to: { int: 1 } })
      .build(),
  );
}

function lookupModel(): Uint8Array {
  return writeModel(
    new GraphBuilder('lookup')
      .input('x', 'INT64', ['batch', 1])
      .output('y', 'FP32', ['batch', 1])
      .initializer(
        'table',
        Float32Array.from({ length: 10 }, (_, i) => i / 10),
        [10],
      )
      .node('Gather', ['table', 'x'], ['y'], { axis: { int: 0 } })
      .build(),
  );
}

export interface FuzzHome {
  home: string;
  configFile: string;
  /** Largest request body the server accepts (413 beyond). */
  bodyLimitBytes: number;
}

/** A registry home with the fuzz models and a server config file beside it. */
export async function prepareFuzzHome(options: { maxLogRows?: number } = {}): Promise<FuzzHome> {
  const home = tempDir('fuzz-home');
  const files = tempDir('fuzz-models');
  writeFileSync(join(files, 'mixed.onnx'), mixedModel());
  writeFileSync(join(files, 'lookup.onnx'), lookupModel());
  const digits = join(FIXTURE_MODELS, 'digits_mlp.onnx');
  const registry = await Registry.open(home, { actor: 'fuzz' });
  try {
    await registry.models.push(digits, { name: 'digits', aliases: ['champion'] });
    await registry.models.push(join(files, 'mixed.onnx'), { name: 'mixed' });
    await registry.models.push(join(files, 'lookup.onnx'), { name: 'lookup' });
    await registry.models.push(digits, { name: 'victim', aliases: ['live'] });
    await registry.models.push(digits, { name: 'victim', aliases: ['next'] });
  } finally {
    await registry.close();
  }
  const bodyLimitBytes = 256 * 1024;
  const config = {
    body_limit_bytes: bodyLimitBytes,
    model_defaults: {
      max_batch_size: MAX_BATCH,
      parameters: { intra_op_thread_count: 1, inter_op_thread_count: 1 },
      dynamic_batching: { max_queue_size: 64 },
    },
    // victim serves every version so that routes may name either.
    models: { victim: { version_policy: { all: {} } } },
    monitoring: { max_rows: options.maxLogRows ?? 50_000, refresh_interval_ms: 2000 },
  };
  const configFile = join(files, 'serve.yaml');
  writeFileSync(configFile, toYaml(config));
  return { home, configFile, bodyLimitBytes };
}
