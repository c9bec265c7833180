/**
 * The embedded demo model: an MLP (64 → 32 ReLU → 10 softmax) trained on the bundled digits data
 * set with a fixed split and seed, exported to ONNX with standardization inside the graph so
 * clients send raw pixel values (0–16).
 */
import { fileURLToPath } from 'node:url';
import { readNumericCsv } from './csv.js';
import { exportClassifierToOnnx } from './export.js';
import { TRAINER_FORMAT, TRAINER_FORMAT_KEY } from './onnx-model.js';
import { accuracy, MlpClassifier } from './mlp.js';
import { stratifiedSplit } from './split.js';
import { fitStandardization, standardize, standardizationAsFloat32 } from './standardize.js';
import { encodeClasses, featuresAndTarget, gatherRows } from './table.js';

export const DIGITS_TARGET_COLUMN = 'digit';
export const DIGITS_DEFAULT_SEED = 42;
export const DIGITS_DEFAULT_EPOCHS = 40;
const TEST_FRACTION = 0.2;
const HIDDEN_UNITS = 32;
const BATCH_SIZE = 32;
const LEARNING_RATE = 3e-3;
const L2 = 1e-3;

export interface DigitsTrainingResult {
  /** ONNX bytes. */
  model: Uint8Array;
  classes: string[];
  metrics: {
    train_accuracy: number;
    test_accuracy: number;
    epochs: number;
    train_rows: number;
    test_rows: number;
    seed: number;
  };
  /** The held-out rows as raw pixel values (what a client sends). */
  testSet: { features: Float32Array; labels: Int32Array; rows: number };
  /** The training rows as raw pixel values, with the feature names: the monitoring reference. */
  trainSet: { features: Float32Array; labels: Int32Array; rows: number; columns: string[]; target: string };
  /** The TypeScript model on raw pixel values, the same math as the graph; rows × classes probabilities. */
  predictProba(features: Float32Array, rows: number): Float64Array;
}

export interface DigitsTrainingOptions {
  /** Default: the digits.csv shipped in the package's assets. */
  csvPath?: string;
  seed?: number;
  epochs?: number;
  onProgress?: (epoch: number, epochs: number, loss: number) => void;
}

/** Path of the bundled digits.csv; this module sits two folders below the package root in src/ and in dist/. */
export function digitsCsvPath(): string {
  return fileURLToPath(new URL('../../assets/datasets/digits.csv', import.meta.url));
}

/** Train the demo digits classifier and export it; deterministic for a given seed. */
export function trainDigitsModel(options: DigitsTrainingOptions = {}): DigitsTrainingResult {
  const seed = options.seed ?? DIGITS_DEFAULT_SEED;
  const epochs = options.epochs ?? DIGITS_DEFAULT_EPOCHS;
  const table = readNumericCsv(options.csvPath ?? digitsCsvPath());
  const { features, target, featureColumns } = featuresAndTarget(table, DIGITS_TARGET_COLUMN);
  const { classes, labels } = encodeClasses(target, DIGITS_TARGET_COLUMN);
  const width = featureColumns.length;

  const split = stratifiedSplit(labels, { testFraction: TEST_FRACTION, seed });
  const trainRows = split.train.length;
  const testRows = split.test.length;
  const trainFeatures = gatherRows(features, width, split.train, new Float64Array(trainRows * width));
  const trainLabels = gatherRows(labels, 1, split.train, new Int32Array(trainRows));
  // Clients send float32, so the test set is what the graph will see.
  const testFeatures = Float32Array.from(
    gatherRows(features, width, split.test, new Float64Array(testRows * width)),
  );
  const testLabels = gatherRows(labels, 1, split.test, new Int32Array(testRows));

  // The graph holds float32 statistics and weights; rounding here makes the TypeScript model compute the same function.
  const stats = standardizationAsFloat32(fitStandardization(trainFeatures, trainRows, width));
  const model = MlpClassifier.fit(
    {
      features: standardize(trainFeatures, trainRows, stats),
      labels: trainLabels,
      rows: trainRows,
      classCount: classes.length,
    },
    {
      hiddenLayers: [HIDDEN_UNITS],
      epochs,
      batchSize: BATCH_SIZE,
      learningRate: LEARNING_RATE,
      l2: L2,
      seed,
      ...(options.onProgress === undefined ? {} : { onEpoch: options.onProgress }),
    },
  );
  model.roundToFloat32();

  const predictProba = (x: Float32Array | Float64Array, n: number): Float64Array =>
    model.predictProba(standardize(x, n, stats), n);
  const trainPredicted = model.predict(
    standardize(Float32Array.from(trainFeatures), trainRows, stats),
    trainRows,
  );
  const testPredicted = model.predict(standardize(testFeatures, testRows, stats), testRows);

  return {
    model: exportClassifierToOnnx(model, {
      classes,
      inputName: 'features',
      featureCount: width,
      standardization: stats,
      // The graph is the one exportTrainedModel writes for an MLP, so this metadata lets updates read it back.
      metadata: {
        [TRAINER_FORMAT_KEY]: TRAINER_FORMAT,
        model_kind: 'mlp',
        task: 'classification',
        feature_columns: JSON.stringify(featureColumns),
        target_column: DIGITS_TARGET_COLUMN,
        activation: 'relu',
        categorical: '[]',
        hyperparameters: JSON.stringify({
          hidden: [HIDDEN_UNITS],
          activation: 'relu',
          optimizer: 'adam',
          learning_rate: LEARNING_RATE,
          batch_size: BATCH_SIZE,
          epochs,
          l2: L2,
          seed,
          validation_fraction: 0,
          train_rows: trainRows,
        }),
      },
    }),
    classes,
    metrics: {
      train_accuracy: accuracy(trainPredicted, trainLabels),
      test_accuracy: accuracy(testPredicted, testLabels),
      epochs,
      train_rows: trainRows,
      test_rows: testRows,
      seed,
    },
    testSet: { features: testFeatures, labels: testLabels, rows: testRows },
    trainSet: {
      features: Float32Array.from(trainFeatures),
      labels: trainLabels,
      rows: trainRows,
      columns: featureColumns,
      target: DIGITS_TARGET_COLUMN,
    },
    predictProba,
  };
}
