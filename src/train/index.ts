/**
 * The train layer: CSV tables, seeded randomness, splits, preprocessing, the trainers (linear, ridge,
 * logistic, softmax, MLP), ONNX export and import, updates (mini-batch, online, replay) and the digits demo
 * model.
 */
export { parseNumericCsv } from './csv.js';
export type { NumericTable } from './csv.js';
export { Random } from './random.js';
export { digitsCsvPath, trainDigitsModel } from './digits.js';
export type { DigitsTrainingResult } from './digits.js';
export type { Task, TrainingTable } from './training-table.js';
export { labelsOf, selectRows } from './training-table.js';
export { shuffledSplit, stratifiedSplit } from './split.js';
export { readTrainingCsv, readUpdateCsv } from './training-csv.js';
export { TrainedModel } from './trained-model.js';
export type { ModelKind } from './trained-model.js';
export { trainModel } from './trainer.js';
export type { TrainOptions, TrainResult } from './trainer.js';
export type { EpochRecord } from './gradient-descent.js';
export { evaluateModel } from './evaluate.js';
export { exportTrainedModel, importTrainedModel } from './onnx-model.js';
export { continueTraining } from './update.js';
export { OnlineLearner } from './online.js';
export { ReplayBuffer } from './replay.js';
export { acceleratedTrainingSupports, trainMlpAccelerated } from './accelerated-trainer.js';
export type { EpochRunner } from './accelerated-trainer.js';
