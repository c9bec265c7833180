/**
 * The models the benchmarks serve and run, with deterministic inputs: the same tensors for the
 * in-process baseline and (as V2 JSON) for the server, so that both sides do the same work.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Tensor } from '../src/core/tensor.js';
import { Random } from '../src/train/random.js';
import { REPO_ROOT } from './servers.js';

export interface BenchModel {
  /** Model name in the served repository. */
  name: string;
  /** Absolute path of the ONNX file. */
  path: string;
  description: string;
  /** Largest batch the compute sweep tries. */
  maxSweepBatch: number;
  /** Inputs for one request of `batch` rows. */
  makeInputs(batch: number): Tensor[];
}

const TEXT_SEQ = 128;

function textInputs(batch: number, vocabulary: number, seed: number): Tensor[] {
  const random = new Random(seed);
  const count = batch * TEXT_SEQ;
  const ids = new BigInt64Array(count);
  for (let i = 0; i < count; i++) ids[i] = BigInt(random.int(vocabulary));
  const mask = new BigInt64Array(count).fill(1n);
  return [
    { name: 'input_ids', datatype: 'INT64', shape: [batch, TEXT_SEQ], data: ids },
    { name: 'attention_mask', datatype: 'INT64', shape: [batch, TEXT_SEQ], data: mask },
  ];
}

function imageInputs(batch: number, seed: number): Tensor[] {
  const random = new Random(seed);
  const data = new Float32Array(batch * 3 * 32 * 32);
  // Multiples of 1/16 are exact in FP32 and short in JSON: the body carries exactly what the baseline runs.
  // `+ 0` turns -0 into 0, which JSON would print as 0 anyway: JSON and raw bytes then carry the same bits.
  for (let i = 0; i < data.length; i++) data[i] = Math.round(random.normal() * 16) / 16 + 0;
  return [{ name: 'image', datatype: 'FP32', shape: [batch, 3, 32, 32], data }];
}

/** Where the models of the fixtures live. */
export const FIXTURE_MODELS = join(REPO_ROOT, 'fixtures', 'models');

/**
 * The MiniLM-size encoder is too big for the repository; the bench (and only the bench) reads it
 * from the project's shared folder beside the repository and skips its rows when it is absent.
 */
export const TEXT_ENCODER_6L_PATH = resolve(REPO_ROOT, '..', 'shared', 'models', 'text_encoder_6l.onnx');

export const SMALL_CNN: BenchModel = {
  name: 'small_cnn',
  path: join(FIXTURE_MODELS, 'small_cnn.onnx'),
  description: 'CNN, image FP32 [batch, 3, 32, 32]',
  maxSweepBatch: 64,
  makeInputs: (batch) => imageInputs(batch, 11),
};

export const TINY_TEXT_ENCODER: BenchModel = {
  name: 'tiny_text_encoder',
  path: join(FIXTURE_MODELS, 'tiny_text_encoder.onnx'),
  description: '2-layer encoder, hidden 128, seq 128, ids < 2000',
  maxSweepBatch: 64,
  makeInputs: (batch) => textInputs(batch, 2000, 12),
};

export const TEXT_ENCODER_6L: BenchModel = {
  name: 'text_encoder_6l',
  path: TEXT_ENCODER_6L_PATH,
  description: '6-layer encoder, hidden 384 (MiniLM size), seq 128, ids < 8000',
  maxSweepBatch: 64,
  makeInputs: (batch) => textInputs(batch, 8000, 13),
};

/** The digits model trained by tend (features FP32 [batch, 64], raw pixels 0..16). */
export function digitsModel(path: string, row: Float32Array): BenchModel {
  return {
    name: 'digits',
    path,
    description: 'digits MLP trained by tend, features FP32 [batch, 64]',
    maxSweepBatch: 256,
    makeInputs: (batch) => {
      const data = new Float32Array(batch * 64);
      for (let b = 0; b < batch; b++) data.set(row, b * 64);
      return [{ name: 'features', datatype: 'FP32', shape: [batch, 64], data }];
    },
  };
}

/** True when the model file is there (text_encoder_6l may be absent). */
export function modelAvailable(model: BenchModel): boolean {
  return existsSync(model.path);
}

/** A KServe V2 JSON request body carrying `inputs`. */
export function v2JsonBody(inputs: readonly Tensor[]): string {
  return JSON.stringify({
    inputs: inputs.map((t) => ({
      name: t.name,
      shape: t.shape,
      datatype: t.datatype,
      data: Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v)),
    })),
  });
}

/** The raw little-endian bytes of a numeric tensor (a view, no copy). */
export function tensorBytes(t: Tensor): Buffer {
  if (Array.isArray(t.data))
    throw new Error(`tensor '${t.name}': BYTES tensors have no fixed-size raw form here`);
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * A request of the V2 binary tensor extension: a JSON header declaring each input's
 * `binary_data_size` and asking for binary outputs, followed by the inputs' raw bytes.
 */
export function v2BinaryBody(inputs: readonly Tensor[]): { body: Buffer; headerLength: number } {
  const raw = inputs.map(tensorBytes);
  const header = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((t, i) => ({
        name: t.name,
        shape: t.shape,
        datatype: t.datatype,
        parameters: { binary_data_size: raw[i]?.length ?? 0 },
      })),
      parameters: { binary_data_output: true },
    }),
  );
  return { body: Buffer.concat([header, ...raw]), headerLength: header.length };
}
