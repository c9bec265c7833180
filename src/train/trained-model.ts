/**
 * A trained model: a DenseNetwork plus its head and preprocessing, computing in TypeScript exactly
 * the function its exported graph computes. Linear, ridge, logistic and softmax models are networks
 * without a hidden layer; binary logistic regression is a two-column softmax whose first logit is
 * pinned at 0 (weights row 0 and bias 0 stay zero), so its probabilities are [1 − σ(z), σ(z)].
 */
import { errors } from '../core/errors.js';
import { argmaxRows, softmaxRows } from './mlp.js';
import type { DenseNetwork, FeatureMatrix } from './network.js';
import { copyPreprocessing, encodedWidth, encodeFeatures, type Preprocessing } from './preprocessing.js';
import type { TableSchema, Task } from './training-table.js';

export type ModelKind = 'linear' | 'ridge' | 'logistic' | 'softmax' | 'mlp';

export const MODEL_KINDS: readonly ModelKind[] = ['linear', 'ridge', 'logistic', 'softmax', 'mlp'];

export type Hyperparameters = Record<string, number | string | number[]>;

export interface TrainedModelInit {
  kind: ModelKind;
  task: Task;
  featureColumns: string[];
  targetColumn: string;
  classes?: string[];
  preprocessing: Preprocessing;
  network: DenseNetwork;
  hyperparameters: Hyperparameters;
}

// Rows per forward pass when predicting, so a large table never needs one huge activation buffer.
const PREDICT_CHUNK_ROWS = 1024;

export class TrainedModel {
  readonly kind: ModelKind;
  readonly task: Task;
  readonly featureColumns: string[];
  readonly targetColumn: string;
  readonly classes: string[] | undefined;
  readonly preprocessing: Preprocessing;
  readonly network: DenseNetwork;
  readonly hyperparameters: Hyperparameters;

  /** Checks that the parts fit together (widths, classes, the logistic pin). */
  constructor(init: TrainedModelInit) {
    this.kind = init.kind;
    this.task = init.task;
    this.featureColumns = [...init.featureColumns];
    this.targetColumn = init.targetColumn;
    this.classes = init.classes === undefined ? undefined : [...init.classes];
    this.preprocessing = init.preprocessing;
    this.network = init.network;
    this.hyperparameters = { ...init.hyperparameters };
    const inputWidth = encodedWidth(init.preprocessing);
    if (inputWidth !== init.network.inputSize) {
      throw errors.invalidArgument(
        `the preprocessing gives ${inputWidth} network inputs, the network takes ${init.network.inputSize}`,
      );
    }
    const outputs = this.task === 'classification' ? (this.classes?.length ?? 0) : 1;
    if (this.task === 'classification' && outputs < 2)
      throw errors.invalidArgument('a classifier needs at least two classes');
    if (init.network.outputSize !== outputs) {
      throw errors.invalidArgument(
        `the network has ${init.network.outputSize} outputs, the ${this.task} head needs ${outputs}`,
      );
    }
    if (this.task === 'regression' && init.preprocessing.target === undefined) {
      throw errors.invalidArgument('a regressor needs the target scaling in its preprocessing');
    }
    if (this.kind === 'logistic' && outputs !== 2)
      throw errors.invalidArgument(`logistic regression has two classes, got ${outputs}`);
  }

  /** Columns, target and classes an update table must have. */
  get schema(): TableSchema {
    const schema: TableSchema = {
      featureColumns: [...this.featureColumns],
      targetColumn: this.targetColumn,
      task: this.task,
    };
    if (this.classes !== undefined) schema.classes = [...this.classes];
    return schema;
  }

  /** An independent copy (network and preprocessing copied). */
  clone(): TrainedModel {
    return new TrainedModel({
      ...this.init(),
      network: this.network.clone(),
      preprocessing: copyPreprocessing(this.preprocessing),
    });
  }

  /** A copy with another network (same architecture), e.g. after an update. */
  withNetwork(network: DenseNetwork, hyperparameters?: Hyperparameters): TrainedModel {
    return new TrainedModel({
      ...this.init(),
      network,
      preprocessing: copyPreprocessing(this.preprocessing),
      hyperparameters: hyperparameters ?? this.hyperparameters,
    });
  }

  private init(): TrainedModelInit {
    const init: TrainedModelInit = {
      kind: this.kind,
      task: this.task,
      featureColumns: this.featureColumns,
      targetColumn: this.targetColumn,
      preprocessing: this.preprocessing,
      network: this.network,
      hyperparameters: this.hyperparameters,
    };
    if (this.classes !== undefined) init.classes = this.classes;
    return init;
  }

  /** Network inputs for raw feature rows. */
  encode(raw: FeatureMatrix, rows: number): Float64Array {
    return encodeFeatures(this.preprocessing, raw, rows, this.featureColumns.length);
  }

  /** Network output values (logits, or the standardized prediction) for raw feature rows. */
  outputs(raw: FeatureMatrix, rows: number): Float64Array {
    const width = this.featureColumns.length;
    if (raw.length !== rows * width) {
      throw errors.invalidArgument(
        `expected ${rows} rows of ${width} features (${rows * width} values), got ${raw.length}`,
      );
    }
    const outWidth = this.network.outputSize;
    const out = new Float64Array(rows * outWidth);
    const chunk = Math.max(1, Math.min(rows, PREDICT_CHUNK_ROWS));
    const ws = this.network.workspace(chunk);
    const encoded = new Float64Array(chunk * this.network.inputSize);
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      const x = encodeFeatures(
        this.preprocessing,
        raw.subarray(start * width, (start + n) * width),
        n,
        width,
        encoded,
      ).subarray(0, n * this.network.inputSize);
      out.set(this.network.forwardBatch(x, n, ws).subarray(0, n * outWidth), start * outWidth);
    }
    return out;
  }

  private requireTask(task: Task, what: string): void {
    if (this.task !== task)
      throw errors.invalidArgument(
        `${what} needs a ${task} model; this ${this.kind} model does ${this.task}`,
      );
  }

  /** Class probabilities, rows × classes (classification). */
  predictProba(raw: FeatureMatrix, rows: number): Float64Array {
    this.requireTask('classification', 'predictProba');
    return softmaxRows(this.outputs(raw, rows), rows, this.network.outputSize);
  }

  /** Most probable class index of each row (classification); the first wins a tie, as in ONNX ArgMax. */
  predictLabels(raw: FeatureMatrix, rows: number): Int32Array {
    return argmaxRows(this.predictProba(raw, rows), rows, this.network.outputSize);
  }

  /** Predicted target values in the target's units (regression). */
  predictValues(raw: FeatureMatrix, rows: number): Float64Array {
    this.requireTask('regression', 'predictValues');
    const out = this.outputs(raw, rows);
    const { mean, std } = this.preprocessing.target as { mean: number; std: number };
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * std + mean;
    return out;
  }
}
