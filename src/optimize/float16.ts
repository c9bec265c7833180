/**
 * fp16 weights: every large float32 initializer is stored as float16 and read through a Cast back
 * to float32, so the file halves while inputs, outputs and every op stay float32. onnxruntime's CPU
 * provider has float16 kernels for few ops (and runs them by converting anyway), so computing in
 * fp16 would mostly add Casts; onnxruntime folds the weight Casts at load time, so the served model
 * runs as fast as its parent. On CPU this saves size (disk, registry, download), not time.
 */
import { errors } from '../core/errors.js';
import { floatToHalfBits } from '../core/fp16.js';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  clone,
  create,
  ModelProtoSchema,
  NodeProtoSchema,
  readTensorData,
  TensorProto_DataLocation,
  TensorProto_DataType as Elem,
  tensorProto,
} from '../onnx/index.js';
import type { ModelProto, NodeProto } from '../onnx/index.js';
import { GraphScope } from './graph-scope.js';

/** Largest finite float16. */
export const FLOAT16_MAX = 65504;
/** Initializers smaller than this stay float32: constants such as epsilons, whose size does not matter. */
export const MIN_FP16_ELEMENTS = 64;

export interface Float16Result {
  model: ModelProto;
  /** Initializers now stored as float16. */
  converted: string[];
  /** Float initializers left float32, and why. */
  kept: { name: string; reason: string }[];
}

/**
 * Store a model's float32 weights as float16 (inputs, outputs and compute stay float32).
 * @throws TendError TEND_INVALID_MODEL when no initializer can be converted.
 */
export function convertFloat16(model: ModelProto): Float16Result {
  if (model.graph === undefined) throw errors.invalidModel('the model has no graph');
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph as NonNullable<ModelProto['graph']>;
  const scope = new GraphScope(graph);
  const converted: string[] = [];
  const kept: Float16Result['kept'] = [];
  const casts: NodeProto[] = [];
  graph.initializer = graph.initializer.map((t) => {
    if (t.dataType !== Elem.FLOAT) return t;
    const keep = (reason: string) => {
      kept.push({ name: t.name, reason });
      return t;
    };
    if (scope.graphInputs.has(t.name)) return keep('also a graph input, so callers may replace it');
    if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) return keep('stored in an external file');
    const values = readTensorData(t).data as Float32Array;
    if (values.length < MIN_FP16_ELEMENTS) return keep(`${values.length} elements: too small to matter`);
    let outside = 0;
    for (const v of values) if (Math.abs(v) > FLOAT16_MAX) outside++;
    if (outside > 0) return keep(`${outside} values beyond float16's range (±${FLOAT16_MAX})`);
    const bits = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) bits[i] = floatToHalfBits(values[i] as number);
    const half = tensorProto(scope.fresh(`${t.name}_fp16`), bits, t.dims.map(Number), 'FP16');
    casts.push(
      create(NodeProtoSchema, {
        name: scope.freshNode(`${t.name}_to_fp32`),
        opType: 'Cast',
        input: [half.name],
        output: [t.name],
        attribute: [create(AttributeProtoSchema, { name: 'to', type: AttrType.INT, i: BigInt(Elem.FLOAT) })],
      }),
    );
    converted.push(t.name);
    return half;
  });
  if (converted.length === 0) {
    throw errors.invalidModel(
      `the model has no float32 initializer of ${MIN_FP16_ELEMENTS} elements or more to store as float16`,
    );
  }
  graph.node = [...casts, ...graph.node];
  return { model: out, converted, kept };
}
