/**
 * The app the V2 route tests (app.test.ts, app-limits.test.ts) run against through `inject`: the
 * demo digits model, a text encoder and a CNN with a queue of two in the repository; in the
 * registry a model with a 120-character name and 'sticky', two versions under an experiment
 * routed by the x-user header.
 */
import { join } from 'node:path';
import { trainDigitsModel } from '../../train/index.js';
import {
  DIGITS_MLP,
  FIXTURE_MODELS,
  SMALL_CNN,
  openInjectApp,
  type InjectApp,
} from './inject.test-helper.js';

const TEXT = join(FIXTURE_MODELS, 'tiny_text_encoder.onnx');
/** A model name of 120 characters (the registry allows 128). */
export const LONG_NAME = 'a'.repeat(120);

/** Open the app; `demoRows` are the digits test rows (64 features each). */
export async function openV2RoutesApp(): Promise<{ app: InjectApp; demoRows: Float32Array }> {
  // The demo model's signature (features → probabilities, label) is what the tests' messages name;
  // its accuracy does not matter here, so one epoch will do.
  const trained = trainDigitsModel({ epochs: 1 });
  const app = await openInjectApp({
    repository: [
      { name: 'digits', model: trained.model },
      { name: 'text', model: TEXT },
      {
        name: 'cnn_queue',
        model: SMALL_CNN,
        config: { max_batch_size: 1, dynamic_batching: { max_queue_size: 2 } },
      },
    ],
    registry: [
      { name: LONG_NAME, model: DIGITS_MLP },
      { name: 'sticky', model: DIGITS_MLP },
      { name: 'sticky', model: DIGITS_MLP },
    ],
    config: { body_limit_bytes: 4 * 1024 * 1024 },
  });
  // Two versions under an experiment sticky by x-user: the header's value is the routing key.
  await app.engine.deployments.apply(
    'sticky',
    {
      champion: 1,
      experiment: {
        variants: [
          { version: 1, weight: 1 },
          { version: 2, weight: 1 },
        ],
        sticky_by: 'x-user',
      },
    },
    { action: 'put' },
  );
  return { app, demoRows: trained.testSet.features };
}
