/**
 * A TrainedModel as ONNX (opset 17) and back. The graph takes raw values, `features` FP32
 * [batch, n_features] in CSV column order:
 *
 *   features ─Sub(mean)─Div(std)──────────────────────┐            (numeric columns; Gather first
 *   features ─Gather(col)─Equal(codes)─Cast(float)────┴─Concat─▶    when some columns are categorical)
 *      ─Gemm─Relu|Tanh─…─Gemm─▶ Softmax ─▶ probabilities FP32 [batch, n_classes] ─ArgMax─▶ label INT64 [batch]
 *                             ─▶ Mul(target std)─Add(target mean) ─▶ prediction FP32 [batch, 1]
 *
 * metadata_props carry what importTrainedModel needs besides the initializers: the trainer format,
 * kind, task, feature columns, target, classes, activation, categorical codes and hyperparameters.
 */
import { TendError, errors } from '../core/errors.js';
import { GraphBuilder, readModel, readTensorData, writeModel, type TensorProto } from '../onnx/index.js';
import { DenseNetwork, HIDDEN_ACTIVATIONS, type HiddenActivation } from './network.js';
import type { CategoricalEncoding, Preprocessing } from './preprocessing.js';
import { MODEL_KINDS, TrainedModel, type Hyperparameters, type ModelKind } from './trained-model.js';
import { TASKS, type Task } from './training-table.js';

/** metadata_props key whose presence marks a model written by tend's trainers, and its format version. */
export const TRAINER_FORMAT_KEY = 'tend_trainer';
export const TRAINER_FORMAT = '1';

/** The metadata_props importTrainedModel reads (besides TRAINER_FORMAT_KEY). */
export const TRAINER_METADATA_KEYS = [
  'model_kind',
  'task',
  'feature_columns',
  'target_column',
  'classes',
  'activation',
  'categorical',
  'hyperparameters',
] as const;

/** The metadata entries describing `model` (what exportTrainedModel writes besides the caller's). */
export function trainerMetadata(model: TrainedModel): Record<string, string> {
  const metadata: Record<string, string> = {
    [TRAINER_FORMAT_KEY]: TRAINER_FORMAT,
    model_kind: model.kind,
    task: model.task,
    feature_columns: JSON.stringify(model.featureColumns),
    target_column: model.targetColumn,
    activation: model.network.activation,
    categorical: JSON.stringify(
      model.preprocessing.categorical.map((c) => ({ column: c.column, categories: c.categories })),
    ),
    hyperparameters: JSON.stringify(model.hyperparameters),
  };
  if (model.classes !== undefined) metadata.classes = JSON.stringify(model.classes);
  return metadata;
}

function addPreprocessing(graph: GraphBuilder, p: Preprocessing, featureCount: number): string {
  const numericCount = p.numericColumns.length;
  const guardedStd = Float32Array.from(p.std, (s) => (s > 0 && Number.isFinite(s) ? s : 1));
  if (p.categorical.length === 0) {
    graph
      .initializer('feature_mean', Float32Array.from(p.mean), [featureCount])
      .initializer('feature_std', guardedStd, [featureCount])
      .node('Sub', ['features', 'feature_mean'], ['centered'], {}, { name: 'center' })
      .node('Div', ['centered', 'feature_std'], ['standardized'], {}, { name: 'scale' });
    return 'standardized';
  }
  const parts: string[] = [];
  if (numericCount > 0) {
    graph
      .initializer('numeric_columns', BigInt64Array.from(p.numericColumns, BigInt), [numericCount])
      .initializer('feature_mean', Float32Array.from(p.mean), [numericCount])
      .initializer('feature_std', guardedStd, [numericCount])
      .node(
        'Gather',
        ['features', 'numeric_columns'],
        ['numeric'],
        { axis: { int: 1 } },
        { name: 'numeric_columns' },
      )
      .node('Sub', ['numeric', 'feature_mean'], ['centered'], {}, { name: 'center' })
      .node('Div', ['centered', 'feature_std'], ['standardized'], {}, { name: 'scale' });
    parts.push('standardized');
  }
  p.categorical.forEach((c, j) => {
    const prefix = `categorical${j}`;
    graph
      .initializer(`${prefix}_column`, BigInt64Array.from([BigInt(c.index)]), [1])
      .initializer(`${prefix}_codes`, Float32Array.from(c.categories), [c.categories.length])
      .node(
        'Gather',
        ['features', `${prefix}_column`],
        [`${prefix}_value`],
        { axis: { int: 1 } },
        { name: `${prefix}_gather` },
      )
      .node(
        'Equal',
        [`${prefix}_value`, `${prefix}_codes`],
        [`${prefix}_match`],
        {},
        { name: `${prefix}_equal` },
      )
      // 1 = FLOAT in ONNX's TensorProto.DataType.
      .node(
        'Cast',
        [`${prefix}_match`],
        [`${prefix}_onehot`],
        { to: { int: 1 } },
        { name: `${prefix}_cast` },
      );
    parts.push(`${prefix}_onehot`);
  });
  graph.node('Concat', parts, ['encoded'], { axis: { int: 1 } }, { name: 'encode' });
  return 'encoded';
}

/**
 * The model as ONNX bytes; `metadata` adds metadata_props entries (the trainer's own keys win).
 * @example writeFileSync('model.onnx', exportTrainedModel(trainModel(table, { model: 'softmax' }).model));
 */
export function exportTrainedModel(model: TrainedModel, metadata: Record<string, string> = {}): Uint8Array {
  const featureCount = model.featureColumns.length;
  const classification = model.task === 'classification';
  const graph = new GraphBuilder(`tend_${model.kind}_${model.task}`).input('features', 'FP32', [
    'batch',
    featureCount,
  ]);
  if (classification) {
    graph
      .output('probabilities', 'FP32', ['batch', model.network.outputSize])
      .output('label', 'INT64', ['batch']);
  } else graph.output('prediction', 'FP32', ['batch', 1]);

  let current = addPreprocessing(graph, model.preprocessing, featureCount);
  const layers = model.network.layers;
  const activation = model.network.activation === 'tanh' ? 'Tanh' : 'Relu';
  layers.forEach((layer, l) => {
    const last = l === layers.length - 1;
    const linear = last ? (classification ? 'logits' : 'standardized_prediction') : `layer${l}_linear`;
    graph
      .initializer(`layer${l}_weight`, Float32Array.from(layer.weights), [layer.outputs, layer.inputs])
      .initializer(`layer${l}_bias`, Float32Array.from(layer.bias), [layer.outputs])
      .node(
        'Gemm',
        [current, `layer${l}_weight`, `layer${l}_bias`],
        [linear],
        { transB: { int: 1 } },
        { name: `layer${l}_gemm` },
      );
    current = linear;
    if (!last) {
      graph.node(
        activation,
        [linear],
        [`layer${l}_${model.network.activation}`],
        {},
        { name: `layer${l}_${model.network.activation}` },
      );
      current = `layer${l}_${model.network.activation}`;
    }
  });
  if (classification) {
    graph
      .node('Softmax', [current], ['probabilities'], { axis: { int: -1 } }, { name: 'softmax' })
      .node(
        'ArgMax',
        ['probabilities'],
        ['label'],
        { axis: { int: 1 }, keepdims: { int: 0 } },
        { name: 'argmax' },
      );
  } else {
    const target = model.preprocessing.target as { mean: number; std: number };
    graph
      .initializer('target_std', Float32Array.from([target.std]), [1])
      .initializer('target_mean', Float32Array.from([target.mean]), [1])
      .node('Mul', [current, 'target_std'], ['scaled_prediction'], {}, { name: 'unscale' })
      .node('Add', ['scaled_prediction', 'target_mean'], ['prediction'], {}, { name: 'uncenter' });
  }
  return writeModel(
    graph.build({
      opset: 17,
      producerName: 'tend',
      docString: `${model.kind} ${model.task} model [${model.network.sizes.join(', ')}] trained by tend`,
      metadata: { ...metadata, ...trainerMetadata(model) },
    }),
  );
}

function parseJson(key: string, text: string | undefined): unknown {
  if (text === undefined) throw errors.invalidModel(`the model's metadata has no '${key}'`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.invalidModel(`the model's metadata '${key}' is not valid JSON`, err);
  }
}

function stringArray(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw errors.invalidModel(`the model's metadata '${key}' must be a JSON array of strings`);
  return value as string[];
}

function oneOf<T extends string>(key: string, value: string | undefined, allowed: readonly T[]): T {
  if (value === undefined || !(allowed as readonly string[]).includes(value)) {
    throw errors.invalidModel(
      `the model's metadata '${key}' must be one of ${allowed.join(', ')}, got ${value === undefined ? 'nothing' : `'${value}'`}`,
    );
  }
  return value as T;
}

function floats(initializers: Map<string, TensorProto>, name: string, length?: number): Float64Array {
  const tensor = initializers.get(name);
  if (tensor === undefined) throw errors.invalidModel(`the model has no initializer '${name}'`);
  const value = readTensorData(tensor);
  if (value.datatype !== 'FP32')
    throw errors.invalidModel(`initializer '${name}' is ${value.datatype}, expected FP32`);
  if (length !== undefined && value.data.length !== length)
    throw errors.invalidModel(`initializer '${name}' has ${value.data.length} values, expected ${length}`);
  return Float64Array.from(value.data as Float32Array);
}

function categoricalSpec(value: unknown, featureColumns: string[]): CategoricalEncoding[] {
  if (!Array.isArray(value))
    throw errors.invalidModel("the model's metadata 'categorical' must be a JSON array");
  return value.map((entry: unknown) => {
    const e = entry as { column?: unknown; categories?: unknown };
    const index = typeof e.column === 'string' ? featureColumns.indexOf(e.column) : -1;
    if (index < 0 || !Array.isArray(e.categories) || !e.categories.every((v) => Number.isInteger(v))) {
      throw errors.invalidModel(
        `the model's metadata 'categorical' has an entry that is not {column: <feature column>, categories: [integers]}`,
      );
    }
    return { column: e.column as string, index, categories: e.categories as number[] };
  });
}

/**
 * Rebuild a TrainedModel from the bytes exportTrainedModel wrote (weights from the initializers, the
 * rest from metadata_props), e.g. to warm-start an update from a registered version.
 * @throws TendError TEND_INVALID_MODEL for bytes that are not ONNX or a model tend's trainers did not write.
 */
export function importTrainedModel(onnxBytes: Uint8Array): TrainedModel {
  const proto = readModel(onnxBytes);
  const meta = new Map(proto.metadataProps.map((p) => [p.key, p.value]));
  const format = meta.get(TRAINER_FORMAT_KEY);
  if (format === undefined) {
    throw errors.invalidModel(
      `this model was not written by tend's trainers (no '${TRAINER_FORMAT_KEY}' metadata), so it cannot be read back for training`,
    );
  }
  if (format !== TRAINER_FORMAT)
    throw errors.invalidModel(
      `unsupported trainer format '${format}' (this tend reads format ${TRAINER_FORMAT})`,
    );
  const kind = oneOf<ModelKind>('model_kind', meta.get('model_kind'), MODEL_KINDS);
  const task = oneOf<Task>('task', meta.get('task'), TASKS);
  const activation = oneOf<HiddenActivation>('activation', meta.get('activation'), HIDDEN_ACTIVATIONS);
  const featureColumns = stringArray(
    'feature_columns',
    parseJson('feature_columns', meta.get('feature_columns')),
  );
  const targetColumn = meta.get('target_column');
  if (targetColumn === undefined || targetColumn === '')
    throw errors.invalidModel("the model's metadata has no 'target_column'");
  const classes =
    task === 'classification' ? stringArray('classes', parseJson('classes', meta.get('classes'))) : undefined;
  const categorical = categoricalSpec(
    parseJson('categorical', meta.get('categorical') ?? '[]'),
    featureColumns,
  );
  const hyperparameters = parseJson('hyperparameters', meta.get('hyperparameters') ?? '{}');
  if (typeof hyperparameters !== 'object' || hyperparameters === null || Array.isArray(hyperparameters)) {
    throw errors.invalidModel("the model's metadata 'hyperparameters' must be a JSON object");
  }

  const initializers = new Map((proto.graph?.initializer ?? []).map((t) => [t.name, t]));
  const categoricalNames = new Set(categorical.map((c) => c.column));
  const numericColumns = featureColumns.flatMap((name, c) => (categoricalNames.has(name) ? [] : [c]));
  const preprocessing: Preprocessing = {
    numericColumns,
    mean:
      numericColumns.length > 0
        ? floats(initializers, 'feature_mean', numericColumns.length)
        : new Float64Array(0),
    std:
      numericColumns.length > 0
        ? floats(initializers, 'feature_std', numericColumns.length)
        : new Float64Array(0),
    categorical,
  };
  if (task === 'regression') {
    preprocessing.target = {
      mean: floats(initializers, 'target_mean', 1)[0] as number,
      std: floats(initializers, 'target_std', 1)[0] as number,
    };
  }

  const sizes: number[] = [];
  const parameters: number[] = [];
  for (let l = 0; initializers.has(`layer${l}_weight`); l++) {
    const weight = initializers.get(`layer${l}_weight`) as TensorProto;
    const [outputs, inputs] = weight.dims.map(Number);
    if (
      weight.dims.length !== 2 ||
      outputs === undefined ||
      inputs === undefined ||
      (l > 0 && inputs !== sizes[sizes.length - 1])
    ) {
      throw errors.invalidModel(
        `initializer 'layer${l}_weight' has dims [${weight.dims.join(', ')}], which do not chain with the layer before`,
      );
    }
    if (l === 0) sizes.push(inputs);
    sizes.push(outputs);
    parameters.push(
      ...floats(initializers, `layer${l}_weight`, outputs * inputs),
      ...floats(initializers, `layer${l}_bias`, outputs),
    );
  }
  if (sizes.length < 2) throw errors.invalidModel("the model has no 'layer0_weight' initializer");
  try {
    return new TrainedModel({
      kind,
      task,
      featureColumns,
      targetColumn,
      ...(classes === undefined ? {} : { classes }),
      preprocessing,
      network: new DenseNetwork(sizes, Float64Array.from(parameters), activation),
      hyperparameters: hyperparameters as Hyperparameters,
    });
  } catch (err) {
    if (err instanceof TendError)
      throw errors.invalidModel(`the model's parts do not fit together: ${err.message}`, err);
    throw err;
  }
}
