/**
 * Checks a request's tensors against the version's signature, once, before anything is queued.
 * Every later stage (batcher, worker) trusts what passes here.
 */
import { errors } from '../../core/errors.js';
import type { ModelSignature, TensorSpec } from '../../core/signature.js';
import { isDynamicDim } from '../../core/signature.js';
import { elementCount, type Tensor } from '../../core/tensor.js';

function describeShape(spec: TensorSpec): string {
  return spec.shape === null
    ? 'any shape'
    : `[${spec.shape.map((d) => (isDynamicDim(d) ? -1 : d)).join(', ')}]`;
}

/**
 * Validate the inputs and return them in the model's declared order.
 * With `maxBatchSize > 0` the first dimension is the batch: 1..maxBatchSize and equal across inputs.
 */
/** limits.max_tensor_elements and limits.max_bytes_element_length. */
export interface TensorLimits {
  maxTensorElements: number;
  maxBytesElementLength: number;
}

export function validateInputs(
  model: string,
  signature: ModelSignature,
  maxBatchSize: number,
  tensors: readonly Tensor[],
  limits?: TensorLimits,
): Tensor[] {
  if (tensors.length === 0 && signature.inputs.length > 0) {
    throw errors.invalidInput(
      `request needs a non-empty "inputs" array: model '${model}' expects ${signature.inputs.map((s) => s.name).join(', ')}`,
    );
  }
  const byName = new Map<string, Tensor>();
  for (const t of tensors) {
    if (byName.has(t.name)) throw errors.invalidInput(`input '${t.name}' appears more than once`);
    byName.set(t.name, t);
  }
  const declared = new Set(signature.inputs.map((s) => s.name));
  for (const name of byName.keys()) {
    if (!declared.has(name)) {
      throw errors.invalidInput(
        `unknown input '${name}' for model '${model}'; expected: ${signature.inputs.map((s) => s.name).join(', ')}`,
      );
    }
  }
  const ordered: Tensor[] = [];
  let batch: number | undefined;
  for (const spec of signature.inputs) {
    const t = byName.get(spec.name);
    if (t === undefined) throw errors.invalidInput(`missing input '${spec.name}' for model '${model}'`);
    if (spec.datatype === null) {
      throw errors.invalidInput(
        `input '${spec.name}' has type ${spec.onnx_type}, which the V2 protocol cannot carry`,
      );
    }
    if (t.datatype !== spec.datatype) {
      throw errors.invalidInput(
        `input '${spec.name}' must have datatype ${spec.datatype}, got ${t.datatype}`,
      );
    }
    const count = elementCount(t.shape);
    if (limits !== undefined && count > limits.maxTensorElements) {
      throw errors.invalidInput(
        `input '${spec.name}' declares ${count} elements (shape [${t.shape.join(', ')}]), more than limits.max_tensor_elements (${limits.maxTensorElements})`,
      );
    }
    if (limits !== undefined && t.datatype === 'BYTES') {
      for (const element of t.data as readonly { length: number }[]) {
        if (element.length > limits.maxBytesElementLength) {
          throw errors.invalidInput(
            `input '${spec.name}' has a BYTES element of ${element.length} bytes, more than limits.max_bytes_element_length (${limits.maxBytesElementLength})`,
          );
        }
      }
    }
    if (t.data.length !== count) {
      throw errors.invalidInput(
        `input '${spec.name}' has ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${count}`,
      );
    }
    if (spec.shape !== null) {
      if (t.shape.length !== spec.shape.length) {
        throw errors.invalidInput(
          `input '${spec.name}' must have ${spec.shape.length} dimensions ${describeShape(spec)}, got [${t.shape.join(', ')}]`,
        );
      }
      const first = maxBatchSize > 0 ? 1 : 0;
      for (let i = first; i < spec.shape.length; i++) {
        const want = spec.shape[i] as number | string;
        if (!isDynamicDim(want) && t.shape[i] !== want) {
          throw errors.invalidInput(
            `input '${spec.name}' has shape [${t.shape.join(', ')}], expected ${describeShape(spec)} (dimension ${i} must be ${want})`,
          );
        }
      }
    }
    if (maxBatchSize > 0) {
      const n = t.shape[0];
      if (n === undefined || n < 1)
        throw errors.invalidInput(`input '${spec.name}' needs a batch dimension of at least 1`);
      if (n > maxBatchSize) {
        throw errors.invalidInput(
          `input '${spec.name}' has batch size ${n}, above the model's max_batch_size ${maxBatchSize}`,
        );
      }
      if (batch !== undefined && n !== batch) {
        throw errors.invalidInput(`inputs disagree on the batch size (${batch} and ${n} for '${spec.name}')`);
      }
      batch = n;
    }
    ordered.push(t);
  }
  return ordered;
}

/**
 * Check requested output names; undefined or empty means all outputs. A name asked for twice is
 * refused: the answer would carry the tensor twice (a request of a few bytes per repeat could ask
 * for megabytes of answer).
 */
export function validateRequestedOutputs(
  model: string,
  signature: ModelSignature,
  names: readonly string[] | undefined,
): void {
  if (!names) return;
  const known = new Set(signature.outputs.map((o) => o.name));
  for (const n of names) {
    if (!known.has(n)) {
      throw errors.invalidInput(
        `unknown output '${n}' requested from model '${model}'; it has: ${signature.outputs.map((o) => o.name).join(', ')}`,
      );
    }
  }
  if (names.length > 1 && new Set(names).size !== names.length) {
    const repeated = names.find((n, i) => names.indexOf(n) !== i) as string;
    throw errors.invalidInput(`output '${repeated}' is requested more than once`);
  }
}
