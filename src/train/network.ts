/**
 * A dense feed-forward network on Float64Array: ReLU hidden layers and a linear output layer whose
 * values the caller's loss interprets (softmax for classifiers, identity for regressors). All
 * parameters live in one flat vector so that optimizers update them in a single loop.
 *
 * Layout of layer l (inputs nᵢ, outputs nₒ): weights nₒ × nᵢ row-major (ONNX Gemm with transB=1),
 * then the nₒ biases.
 */
import { TendError } from '../core/errors.js';
import type { Random } from './random.js';

export type FeatureMatrix = Float32Array | Float64Array;

export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** outputs × inputs, row-major. */
  readonly weights: Float64Array;
  readonly bias: Float64Array;
}

/** The activations a forward pass keeps for the backward pass: the input, then each layer's output. */
export type ForwardTrace = readonly FeatureMatrix[];

function parameterCountOf(sizes: readonly number[]): number {
  let count = 0;
  for (let l = 0; l + 1 < sizes.length; l++) count += ((sizes[l] as number) + 1) * (sizes[l + 1] as number);
  return count;
}

export class DenseNetwork {
  /** Width of each layer, input first, output last. */
  readonly sizes: readonly number[];
  readonly parameters: Float64Array;
  readonly layers: readonly DenseLayer[];

  /** A network over existing parameters (laid out as described above), or zeros. */
  constructor(sizes: readonly number[], parameters?: Float64Array) {
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new TendError('TEND_INVALID_ARGUMENT', `layer sizes must be two or more positive integers, got [${sizes.join(', ')}]`);
    }
    const count = parameterCountOf(sizes);
    if (parameters !== undefined && parameters.length !== count) {
      throw new TendError('TEND_INVALID_ARGUMENT', `a [${sizes.join(', ')}] network has ${count} parameters, got ${parameters.length}`);
    }
    this.sizes = [...sizes];
    this.parameters = parameters ?? new Float64Array(count);
    this.layers = this.layerViews(this.parameters);
  }

  /** Glorot-uniform weights (bound √(6 / (fan_in + fan_out))) and zero biases. */
  static initialized(sizes: readonly number[], random: Random): DenseNetwork {
    const network = new DenseNetwork(sizes);
    for (const layer of network.layers) {
      const bound = Math.sqrt(6 / (layer.inputs + layer.outputs));
      for (let i = 0; i < layer.weights.length; i++) layer.weights[i] = random.uniformRange(-bound, bound);
    }
    return network;
  }

  get inputSize(): number {
    return this.sizes[0] as number;
  }

  get outputSize(): number {
    return this.sizes[this.sizes.length - 1] as number;
  }

  /** Views of `buffer` laid out like the parameters (for gradients and optimizer state). */
  layerViews(buffer: Float64Array): DenseLayer[] {
    const layers: DenseLayer[] = [];
    let offset = 0;
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const inputs = this.sizes[l] as number;
      const outputs = this.sizes[l + 1] as number;
      const weights = buffer.subarray(offset, offset + inputs * outputs);
      offset += inputs * outputs;
      const bias = buffer.subarray(offset, offset + outputs);
      offset += outputs;
      layers.push({ inputs, outputs, weights, bias });
    }
    return layers;
  }

  /** Output-layer values (before softmax or any output function) for `rows` rows of `x`. */
  forward(x: FeatureMatrix, rows: number): Float64Array {
    const trace = this.forwardTrace(x, rows);
    return trace[trace.length - 1] as Float64Array;
  }

  /** Forward pass that keeps every layer's activations for `backward`. */
  forwardTrace(x: FeatureMatrix, rows: number): ForwardTrace {
    if (x.length !== rows * this.inputSize) {
      throw new TendError('TEND_INVALID_ARGUMENT', `expected ${rows} rows of ${this.inputSize} features (${rows * this.inputSize} values), got ${x.length}`);
    }
    const trace: FeatureMatrix[] = [x];
    let input: FeatureMatrix = x;
    const last = this.layers.length - 1;
    this.layers.forEach((layer, l) => {
      const { inputs, outputs, weights, bias } = layer;
      const out = new Float64Array(rows * outputs);
      const relu = l < last;
      for (let r = 0; r < rows; r++) {
        const inBase = r * inputs;
        const outBase = r * outputs;
        for (let o = 0; o < outputs; o++) {
          const wBase = o * inputs;
          let sum = bias[o] as number;
          for (let i = 0; i < inputs; i++) sum += (weights[wBase + i] as number) * (input[inBase + i] as number);
          out[outBase + o] = relu && sum < 0 ? 0 : sum;
        }
      }
      trace.push(out);
      input = out;
    });
    return trace;
  }

  /**
   * Back-propagate `outputGradient` (∂loss/∂output values, rows × outputSize) through the pass in
   * `trace`, adding ∂loss/∂parameters into `gradient` (same layout as `parameters`; the caller zeroes it).
   */
  backward(trace: ForwardTrace, outputGradient: Float64Array, rows: number, gradient: Float64Array): void {
    const grads = this.layerViews(gradient);
    let delta = outputGradient;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const { inputs, outputs, weights } = this.layers[l] as DenseLayer;
      const g = grads[l] as DenseLayer;
      const input = trace[l] as FeatureMatrix;
      const needInputGradient = l > 0;
      const inputDelta = needInputGradient ? new Float64Array(rows * inputs) : delta;
      for (let r = 0; r < rows; r++) {
        const inBase = r * inputs;
        for (let o = 0; o < outputs; o++) {
          const d = delta[r * outputs + o] as number;
          if (d === 0) continue;
          g.bias[o] = (g.bias[o] as number) + d;
          const wBase = o * inputs;
          for (let i = 0; i < inputs; i++) {
            g.weights[wBase + i] = (g.weights[wBase + i] as number) + d * (input[inBase + i] as number);
          }
          if (needInputGradient) {
            for (let i = 0; i < inputs; i++) {
              inputDelta[inBase + i] = (inputDelta[inBase + i] as number) + d * (weights[wBase + i] as number);
            }
          }
        }
      }
      if (needInputGradient) {
        // The input of layer l is the ReLU output of layer l-1: its derivative is 1 where that output is positive.
        for (let k = 0; k < inputDelta.length; k++) if (!((input[k] as number) > 0)) inputDelta[k] = 0;
      }
      delta = inputDelta;
    }
  }

  /** Round every parameter to float32, the precision an exported graph stores it in. */
  roundToFloat32(): void {
    this.parameters.set(Float32Array.from(this.parameters));
  }
}
