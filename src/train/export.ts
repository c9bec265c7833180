/**
 * Writes a trained MLP classifier as an ONNX graph that takes raw feature values:
 *
 *   features ─Sub(mean)─Div(std)─Gemm─Relu─…─Gemm─Softmax─▶ probabilities ─ArgMax─▶ label
 *
 * Weights are float32 initializers; the class names go to metadata_props `classes` as a JSON array.
 */
import { errors } from '../core/errors.js';
import { GraphBuilder, writeModel } from '../onnx/index.js';
import type { MlpClassifier } from './mlp.js';
import type { Standardization } from './standardize.js';

export interface ClassifierExportOptions {
  /** Class names, one per output column. */
  classes: string[];
  /** Default 'features'. */
  inputName?: string;
  featureCount: number;
  /** Applied in the graph before the first layer; omit when the model takes inputs as they are. */
  standardization?: Standardization;
  /** Default 'probabilities'. */
  probabilitiesName?: string;
  /** Default 'label'. */
  labelName?: string;
  /** Default 'tend_mlp_classifier'. */
  graphName?: string;
  /** Extra metadata_props entries (besides `classes`). */
  metadata?: Record<string, string>;
}

/**
 * The classifier as ONNX bytes (opset 17): input [batch, featureCount] FP32, outputs probabilities FP32 and
 * label INT64.
 */
export function exportClassifierToOnnx(model: MlpClassifier, options: ClassifierExportOptions): Uint8Array {
  const { classes, featureCount, standardization } = options;
  const inputName = options.inputName ?? 'features';
  const probabilitiesName = options.probabilitiesName ?? 'probabilities';
  const labelName = options.labelName ?? 'label';
  if (featureCount !== model.featureCount) {
    throw errors.invalidArgument(
      `featureCount ${featureCount} does not match the model's ${model.featureCount} inputs`,
    );
  }
  if (classes.length !== model.classCount) {
    throw errors.invalidArgument(
      `${classes.length} class names given for a model with ${model.classCount} classes`,
    );
  }

  const graph = new GraphBuilder(options.graphName ?? 'tend_mlp_classifier')
    .input(inputName, 'FP32', ['batch', featureCount])
    .output(probabilitiesName, 'FP32', ['batch', classes.length])
    .output(labelName, 'INT64', ['batch']);

  let current = inputName;
  if (standardization !== undefined) {
    if (standardization.mean.length !== featureCount || standardization.std.length !== featureCount) {
      throw errors.invalidArgument(
        `standardization has ${standardization.mean.length} means and ${standardization.std.length} stds for ${featureCount} features`,
      );
    }
    // A zero std would divide by zero; a constant feature is centred to 0 whatever it is divided by.
    const std = Float32Array.from(standardization.std, (s) => (s > 0 && Number.isFinite(s) ? s : 1));
    graph
      .initializer('feature_mean', Float32Array.from(standardization.mean), [featureCount])
      .initializer('feature_std', std, [featureCount])
      .node('Sub', [current, 'feature_mean'], ['centered'], {}, { name: 'center' })
      .node('Div', ['centered', 'feature_std'], ['standardized'], {}, { name: 'scale' });
    current = 'standardized';
  }

  const layers = model.network.layers;
  layers.forEach((layer, l) => {
    const w = `layer${l}_weight`;
    const b = `layer${l}_bias`;
    const last = l === layers.length - 1;
    const linear = last ? 'logits' : `layer${l}_linear`;
    graph
      .initializer(w, Float32Array.from(layer.weights), [layer.outputs, layer.inputs])
      .initializer(b, Float32Array.from(layer.bias), [layer.outputs])
      .node('Gemm', [current, w, b], [linear], { transB: { int: 1 } }, { name: `layer${l}_gemm` });
    current = linear;
    if (!last) {
      const activated = `layer${l}_relu`;
      graph.node('Relu', [linear], [activated], {}, { name: activated });
      current = activated;
    }
  });
  graph
    .node('Softmax', [current], [probabilitiesName], { axis: { int: -1 } }, { name: 'softmax' })
    .node(
      'ArgMax',
      [probabilitiesName],
      [labelName],
      { axis: { int: 1 }, keepdims: { int: 0 } },
      { name: 'argmax' },
    );

  return writeModel(
    graph.build({
      opset: 17,
      producerName: 'tend',
      docString: `MLP classifier [${model.network.sizes.join(', ')}] trained by tend`,
      metadata: { ...options.metadata, classes: JSON.stringify(classes) },
    }),
  );
}
