/**
 * Which models tend can explain: KernelSHAP and LIME perturb features one by one, so they take one
 * float input shaped [batch, M] with M ≤ 1024. Images, token ids and wider inputs get a 400 that says so.
 */
import { errors } from '../../core/errors.js';
import type { DataType } from '../../core/tensor.js';
import { isDynamicDim } from '../../core/signature.js';
import type { ServedVersion } from '../serving/served-version.js';

/** The most features per row an explanation perturbs (wider inputs are images or sequences). */
export const MAX_EXPLAIN_FEATURES = 1024;

export interface TabularInput {
  name: string;
  datatype: 'FP32' | 'FP64';
  features: number;
}

/** The version's tabular input, or a 400 saying which inputs the methods apply to. */
export function tabularInputOf(sv: ServedVersion): TabularInput {
  const applies = `kernel_shap and lime apply to models with one FP32 or FP64 input shaped [batch, features] with at most ${MAX_EXPLAIN_FEATURES} features`;
  const inputs = sv.signature.inputs;
  const describe = inputs
    .map((s) => {
      const dims =
        s.shape === null
          ? 'any shape'
          : `[${s.shape.map((d) => (isDynamicDim(d) ? 'batch' : d)).join(', ')}]`;
      return `'${s.name}' ${s.datatype ?? s.onnx_type} ${dims}`;
    })
    .join(', ');
  const refuse = (why: string): never => {
    throw errors.invalidArgument(
      `model '${sv.model}' version ${sv.version} cannot be explained: ${why}; ${applies}`,
      {
        hint: 'explain a tabular model; images and text tokens are not explained by tend yet',
      },
    );
  };
  if (inputs.length !== 1) return refuse(`it takes ${inputs.length} inputs (${describe})`);
  const spec = inputs[0];
  if (spec === undefined || spec.shape === null) return refuse(`its input ${describe} has no fixed rank`);
  if (sv.maxBatchSize <= 0)
    return refuse(`it has no batch dimension (input ${describe}), so perturbed rows cannot go in batches`);
  const row = spec.shape.slice(1);
  const elements = row.every((d) => typeof d === 'number' && d > 0)
    ? row.reduce<number>((a, d) => a * (d as number), 1)
    : undefined;
  const datatype: DataType | null = spec.datatype;
  if (datatype !== 'FP32' && datatype !== 'FP64')
    return refuse(
      `its input ${describe} holds ${datatype ?? spec.onnx_type}${datatype === 'INT64' || datatype === 'INT32' ? ' (token ids or categories)' : ''}, not float features`,
    );
  if (row.length !== 1 || elements === undefined)
    return refuse(
      `its input ${describe} has ${elements !== undefined ? `${elements} elements per row in ${row.length} dimensions` : 'rows of unknown size'}, not one row of features`,
    );
  if (elements > MAX_EXPLAIN_FEATURES)
    return refuse(
      `its input ${describe} has ${elements} elements per row (more than ${MAX_EXPLAIN_FEATURES})`,
    );
  return { name: spec.name, datatype, features: elements };
}
