/**
 * trainModel's MLP path with each epoch run as one ONNX graph (epoch-graph.ts) by a runner the
 * caller supplies (the engine's onnxruntime session): the same validation split, preprocessing,
 * seeded initial weights and per-epoch shuffles, the same early stopping decided here between
 * epochs (on the validation loss the graph computes after the epoch's last batch), the same
 * TrainResult. Only the arithmetic moves, and with it the precision: the graph computes in float32
 * where the TypeScript trainer computes in float64.
 */
import { errors } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { writeModel } from '../onnx/model.js';
import { encodeTable, type EncodedData } from './encoded-data.js';
import { buildEpochGraph } from './epoch-graph.js';
import {
  adamSchedule,
  batchCount,
  EPOCH_INPUTS,
  EPOCH_OUTPUTS,
  type EpochGraphSpec,
} from './epoch-graph-spec.js';
import type { DescentResult, EpochRecord } from './gradient-descent.js';
import { DenseNetwork } from './network.js';
import type { Random } from './random.js';
import {
  completeTraining,
  makeOptimizer,
  mlpOutcome,
  mlpSettings,
  prepareTrainingRun,
  type MlpSettings,
  type TrainOptions,
  type TrainResult,
} from './trainer.js';
import type { TrainingTable } from './training-table.js';

/** Runs an epoch graph; the engine supplies it, since only src/runtime may talk to onnxruntime. */
export interface EpochRunner {
  /** One run of the graph: `inputs` named as EPOCH_INPUTS; returns (at least) the EPOCH_OUTPUTS, in any order. */
  run(inputs: Tensor[]): Promise<Tensor[]>;
  close(): Promise<void>;
}

/** Opens a runner for one training run's epoch graph (the bytes of an .onnx file). */
export type EpochRunnerFactory = (graph: Uint8Array) => Promise<EpochRunner>;

/** Adam's defaults, as optimizer.ts's Adam uses them. */
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
// As gradient-descent.ts: scikit-learn's default tol for n_iter_no_change.
const IMPROVEMENT = 1e-4;

/** Whether trainMlpAccelerated can train `options` (an MLP with Adam); everything else stays in TypeScript. */
export function acceleratedTrainingSupports(options: TrainOptions): boolean {
  return options.model === 'mlp' && (options.optimizer ?? 'adam') === 'adam';
}

/**
 * trainModel for an Adam-trained MLP, each epoch one `runner.run`; the runner is opened once for the
 * whole run and closed at the end, also on failure.
 * @throws TendError TEND_INVALID_ARGUMENT for the option errors trainModel reports, and for options
 *   this path does not train (see acceleratedTrainingSupports).
 */
export async function trainMlpAccelerated(
  table: TrainingTable,
  options: TrainOptions,
  openRunner: EpochRunnerFactory,
): Promise<TrainResult> {
  const run = prepareTrainingRun(table, options);
  if (!acceleratedTrainingSupports(options)) {
    throw errors.invalidArgument(
      `accelerated training covers MLPs trained with Adam, not model '${options.model}' with optimizer '${options.optimizer ?? 'adam'}'`,
    );
  }
  const settings = mlpSettings(run, options);
  const { width, outputs, data } = run;
  // Same draws from the same stream as trainModel: initial weights first, then the batch order.
  const network = DenseNetwork.initialized(
    [width, ...settings.hidden, outputs],
    run.random,
    settings.activation,
  );
  const { learningRate } = makeOptimizer(
    'adam',
    network.parameters.length,
    options.learningRate,
    settings.momentum,
  );
  const validation =
    run.validation === null ? undefined : encodeTable(run.validation, run.preprocessing, width);
  const batchSize = Math.min(settings.batchSize, data.rows);
  const spec: EpochGraphSpec = {
    sizes: network.sizes,
    activation: settings.activation,
    task: run.task,
    rows: data.rows,
    batchSize,
    l2: settings.l2,
    beta1: ADAM.beta1,
    beta2: ADAM.beta2,
    validationRows: validation?.rows ?? 0,
  };
  const runner = await openRunner(writeModel(buildEpochGraph(spec)));
  let result: DescentResult;
  try {
    result = await runEpochs(network, data, runner, {
      settings,
      batchSize,
      learningRate,
      random: run.random,
      targetStd: run.targetStd,
      ...(validation === undefined ? {} : { validation }),
      ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }),
    });
  } finally {
    await runner.close();
  }
  const { hyperparameters, metrics } = mlpOutcome(
    run,
    settings,
    learningRate,
    options.validationFraction ?? 0.1,
    result,
  );
  return completeTraining(run, network, hyperparameters, result.epochs, result.stoppedEarly, metrics);
}

interface EpochLoopOptions {
  settings: MlpSettings;
  batchSize: number;
  learningRate: number;
  random: Random;
  targetStd: number;
  validation?: EncodedData;
  onEpoch?: (record: EpochRecord) => void;
}

/** The graph's target input: one-hot rows of the labels, or the standardized targets. */
function targetMatrix(data: EncodedData, outputs: number): Float32Array {
  if (data.labels === null) return Float32Array.from(data.targets ?? []);
  const y = new Float32Array(data.rows * outputs);
  for (let r = 0; r < data.rows; r++) y[r * outputs + (data.labels[r] as number)] = 1;
  return y;
}

function outputOf(outputs: Tensor[], name: string): Float32Array {
  const tensor = outputs.find((t) => t.name === name);
  if (tensor === undefined || !(tensor.data instanceof Float32Array)) {
    throw errors.internal(`the epoch graph returned no float32 output '${name}'`);
  }
  return tensor.data;
}

/**
 * The validation inputs of the graph and how to read its validation outputs: mean loss, and accuracy
 * or R² of the standardized target (lossAndMetric's definitions; the graph scores the rows in one pass).
 */
function validationScoring(
  validation: EncodedData,
  outputs: number,
): { inputs: Tensor[]; score(result: Tensor[]): { loss: number; metric: number } } {
  const rows = validation.rows;
  const inputs: Tensor[] = [
    {
      name: EPOCH_INPUTS.validationFeatures,
      datatype: 'FP32',
      shape: [rows, validation.width],
      data: Float32Array.from(validation.x),
    },
    {
      name: EPOCH_INPUTS.validationTargets,
      datatype: 'FP32',
      shape: [rows, outputs],
      data: targetMatrix(validation, outputs),
    },
  ];
  let total = 0;
  if (validation.targets !== null) {
    let sum = 0;
    let squares = 0;
    for (const t of validation.targets) {
      sum += t;
      squares += t * t;
    }
    total = squares - (sum * sum) / rows;
  }
  return {
    inputs,
    score(result) {
      const lossSum = outputOf(result, EPOCH_OUTPUTS.validationLossSum)[0] as number;
      if (validation.labels !== null)
        return {
          loss: lossSum / rows,
          metric: (outputOf(result, EPOCH_OUTPUTS.validationCorrect)[0] as number) / rows,
        };
      // The loss is ½·Σd², so the squared error is twice it.
      return { loss: lossSum / rows, metric: total > 0 ? 1 - (2 * lossSum) / total : 0 };
    },
  };
}

/** runGradientDescent's loop with the epoch itself run by `runner`: records, early stopping and the kept weights. */
async function runEpochs(
  network: DenseNetwork,
  train: EncodedData,
  runner: EpochRunner,
  options: EpochLoopOptions,
): Promise<DescentResult> {
  const { settings, batchSize, random, validation } = options;
  const rows = train.rows;
  const outputs = network.outputSize;
  const count = network.parameters.length;
  const batches = batchCount(rows, batchSize);
  const order = random.permutation(rows);
  const features: Tensor = {
    name: EPOCH_INPUTS.features,
    datatype: 'FP32',
    shape: [rows, train.width],
    data: Float32Array.from(train.x),
  };
  const targets: Tensor = {
    name: EPOCH_INPUTS.targets,
    datatype: 'FP32',
    shape: [rows, outputs],
    data: targetMatrix(train, outputs),
  };
  const orderTensor: Tensor = { name: EPOCH_INPUTS.order, datatype: 'INT32', shape: [rows], data: order };
  let parameters: Float32Array = Float32Array.from(network.parameters);
  let m: Float32Array = new Float32Array(count);
  let v: Float32Array = new Float32Array(count);
  const scoring = validation === undefined ? null : validationScoring(validation, outputs);
  // Regression losses are halved squared errors of the standardized target; records show the MSE.
  const scale = train.targets !== null ? 2 * options.targetStd ** 2 : 1;
  const rate = { learningRate: options.learningRate, ...ADAM };
  const records: EpochRecord[] = [];
  let steps = 0;
  let best = Infinity;
  let bestEpoch = 0;
  let bestParameters: Float32Array | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;

  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    random.shuffle(order);
    const schedule = adamSchedule(steps + 1, batches, rate);
    steps += batches;
    const result = await runner.run([
      ...(scoring?.inputs ?? []),
      features,
      targets,
      orderTensor,
      { name: EPOCH_INPUTS.parameters, datatype: 'FP32', shape: [count], data: parameters },
      { name: EPOCH_INPUTS.adamM, datatype: 'FP32', shape: [count], data: m },
      { name: EPOCH_INPUTS.adamV, datatype: 'FP32', shape: [count], data: v },
      { name: EPOCH_INPUTS.stepSizes, datatype: 'FP32', shape: [batches], data: schedule.stepSizes },
      { name: EPOCH_INPUTS.epsilons, datatype: 'FP32', shape: [batches], data: schedule.epsilons },
    ]);
    parameters = outputOf(result, EPOCH_OUTPUTS.parameters);
    m = outputOf(result, EPOCH_OUTPUTS.adamM);
    v = outputOf(result, EPOCH_OUTPUTS.adamV);
    const lossSum = outputOf(result, EPOCH_OUTPUTS.lossSum)[0] as number;
    const record: EpochRecord = { epoch, train_loss: (lossSum / rows) * scale };
    if (scoring !== null) {
      const { loss, metric } = scoring.score(result);
      record.validation_loss = loss * scale;
      record.validation_metric = metric;
      if (loss < best - IMPROVEMENT) {
        best = loss;
        bestEpoch = epoch;
        bestParameters = parameters.slice();
        sinceBest = 0;
      } else sinceBest++;
    } else bestEpoch = epoch;
    records.push(record);
    options.onEpoch?.(record);
    if (scoring !== null && sinceBest >= settings.patience) {
      stoppedEarly = epoch < settings.epochs;
      break;
    }
  }
  network.parameters.set(bestParameters ?? parameters);
  return { epochs: records, stoppedEarly, bestEpoch };
}
