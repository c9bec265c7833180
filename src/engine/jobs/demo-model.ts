/**
 * The embedded demo: the digits model trained by tend's own trainer and registered once in a home.
 * It wires train and registry, so the CLI's `demo` stays a thin command.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../registry/index.js';
import {
  digitsCsvPath,
  parseNumericCsv,
  trainDigitsModel,
  type DigitsTrainingResult,
} from '../../train/index.js';
import { attachReference } from '../serving/reference-data.js';

/** The training rows as CSV: the feature columns, then the target (its class name). */
function trainingCsv(set: DigitsTrainingResult['trainSet'], classes: readonly string[]): string {
  const width = set.columns.length;
  const lines = [[...set.columns, set.target].join(',')];
  for (let r = 0; r < set.rows; r++) {
    lines.push(
      [...set.features.subarray(r * width, (r + 1) * width), classes[set.labels[r] as number] ?? ''].join(
        ',',
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

export const DEMO_MODEL = 'digits';
const DEMO_TAG = 'demo';

export interface DemoModel {
  name: string;
  version: number;
  trained: boolean;
  test_accuracy: number | null;
  epochs: number | null;
}

/** Reuse the demo model already in the registry at `home`, or train and push it (alias champion). */
export async function ensureDemoModel(
  home: string,
  onProgress?: (epoch: number, epochs: number, loss: number) => void,
): Promise<DemoModel> {
  const registry = await Registry.open(home, { actor: 'tend demo' });
  try {
    const existing = await registry.models.listVersions(DEMO_MODEL).catch(() => []);
    const demo = existing
      .filter((v) => v.tags[DEMO_TAG] === 'digits')
      .sort((a, b) => b.version - a.version)[0];
    if (demo) {
      const accuracy = demo.metrics['test_accuracy'];
      return {
        name: DEMO_MODEL,
        version: demo.version,
        trained: false,
        test_accuracy: typeof accuracy === 'number' ? accuracy : null,
        epochs: null,
      };
    }
    const result = trainDigitsModel(onProgress ? { onProgress } : {});
    const dir = mkdtempSync(join(tmpdir(), 'tend-demo-'));
    try {
      const file = join(dir, 'digits.onnx');
      writeFileSync(file, result.model);
      const pushed = await registry.models.push(file, {
        name: DEMO_MODEL,
        aliases: ['champion'],
        tags: { [DEMO_TAG]: 'digits' },
        description: 'Handwritten digits (8×8 pixels, values 0–16) → digit 0–9; trained by tend demo',
        createdBy: 'tend demo',
        source: 'tend demo: assets/datasets/digits.csv',
        metrics: result.metrics,
      });
      // The training data is the reference drift is measured against (classes are the digits themselves).
      await attachReference(
        registry,
        DEMO_MODEL,
        String(pushed.version),
        trainingCsv(result.trainSet, result.classes),
        'tend demo: the training split of assets/datasets/digits.csv',
        'tend demo',
      );
      return {
        name: DEMO_MODEL,
        version: pushed.version,
        trained: true,
        test_accuracy: result.metrics.test_accuracy,
        epochs: result.metrics.epochs,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await registry.close();
  }
}

/** The first digit of the data set as a V2 request body, and the digit it shows. */
export function demoRequest(): { body: string; digit: number } {
  const table = parseNumericCsv(readFileSync(digitsCsvPath(), 'utf8'), 'digits.csv');
  const features = Array.from(table.values.subarray(0, 64));
  const body = JSON.stringify({
    inputs: [{ name: 'features', shape: [1, 64], datatype: 'FP32', data: features }],
  });
  return { body, digit: table.values[64] ?? -1 };
}
