/**
 * Calibration runs for int8-static: the parent model, made to output every activation the QDQ
 * rewrite quantizes, runs the calibration sample in a worker (once for minmax, twice for
 * percentile and entropy), and the observed values become the ranges the rewrite uses.
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_SESSION_PARAMETERS } from '../../core/config.js';
import type { ModelProto } from '../../onnx/index.js';
import { writeModel } from '../../onnx/index.js';
import { RangeCollector, staticTargets, withCalibrationOutputs } from '../../optimize/index.js';
import type { ActivationRange, CalibrationMethod } from '../../optimize/index.js';
import type { Runtime } from '../../runtime/index.js';
import { copyTensors } from '../serving/run-request.js';
import type { EvaluationData } from './optimize-data.js';

/** Calibrated ranges of the activations `staticTargets(model)` names. */
export async function calibrateRanges(
  runtime: Runtime,
  model: ModelProto,
  calibration: EvaluationData,
  method: CalibrationMethod,
  percentile: number | undefined,
  workPath: string,
): Promise<Map<string, ActivationRange>> {
  const targets = staticTargets(model);
  const collector = new RangeCollector(method, percentile);
  writeFileSync(workPath, writeModel(withCalibrationOutputs(model, targets)));
  const loaded = await runtime.load({
    modelPath: workPath,
    label: 'calibrate',
    instances: 1,
    session: { graphOptimizationLevel: DEFAULT_SESSION_PARAMETERS.graph_optimization_level },
    warmup: [],
  });
  try {
    const wanted = new Set(targets);
    for (let pass = 0; pass < (collector.needsSecondPass ? 2 : 1); pass++) {
      if (pass === 1) collector.startHistograms();
      for (const inputs of calibration.requests) {
        const result = await loaded.run(copyTensors(inputs));
        for (const t of result.outputs)
          if (wanted.has(t.name) && t.datatype === 'FP32') collector.add(t.name, t.data as Float32Array);
      }
    }
  } finally {
    await loaded.unload();
  }
  return collector.ranges(new Set(model.graph?.output.map((o) => o.name) ?? []));
}
