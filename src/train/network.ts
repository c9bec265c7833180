/**
 * A dense feed-forward network on Float64Array: hidden layers with ReLU or tanh and a linear output
 * layer whose values the caller's loss interprets (softmax for classifiers, identity for
 * regressors). All parameters live in one flat vector so that optimizers update them in a single loop.
 *
 * Layout of layer l (inputs nᵢ, outputs nₒ): weights nₒ × nᵢ row-major (ONNX Gemm with transB=1),
 * then the nₒ biases.
 */
import { errors } from '../core/errors.js';
import { multiplyTransposed, transposeInto } from './matmul.js';
import type { Random } from './random.js';

export type FeatureMatrix = Float32Array | Float64Array;

/** The function between hidden layers (the output layer is always linear). */
export type HiddenActivation = 'relu' | 'tanh';

export const HIDDEN_ACTIVATIONS: readonly HiddenActivation[] = ['relu', 'tanh'];

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

/**
 * Buffers for forward and backward passes of up to `maxRows` rows, allocated once per training run
 * so the inner loops allocate nothing.
 */
export class NetworkWorkspace {
  readonly maxRows: number;
  /** Output of each layer (after its activation), maxRows × width. */
  readonly activations: Float64Array[];
  /** ∂loss/∂(pre-activation output) of each layer; the caller fills the last one before `backwardBatch`. */
  readonly deltas: Float64Array[];
  readonly input: Float64Array;
  readonly transposedA: Float64Array;
  readonly transposedB: Float64Array;
  readonly transposedWeights: Float64Array;

  constructor(sizes: readonly number[], maxRows: number) {
    this.maxRows = maxRows;
    const widths = sizes.slice(1);
    this.activations = widths.map((w) => new Float64Array(maxRows * w));
    this.deltas = widths.map((w) => new Float64Array(maxRows * w));
    const widest = Math.max(...sizes);
    this.input = new Float64Array(maxRows * (sizes[0] as number));
    this.transposedA = new Float64Array(maxRows * widest);
    this.transposedB = new Float64Array(maxRows * widest);
    let largestLayer = 0;
    for (let l = 0; l + 1 < sizes.length; l++)
      largestLayer = Math.max(largestLayer, (sizes[l] as number) * (sizes[l + 1] as number));
    this.transposedWeights = new Float64Array(largestLayer);
  }

  /** The output-layer gradient buffer for `rows` rows, to fill before `backwardBatch`. */
  outputDelta(rows: number): Float64Array {
    const last = this.deltas[this.deltas.length - 1] as Float64Array;
    return last.subarray(0, (rows * last.length) / this.maxRows);
  }
}

export class DenseNetwork {
  /** Width of each layer, input first, output last. */
  readonly sizes: readonly number[];
  readonly parameters: Float64Array;
  readonly layers: readonly DenseLayer[];
  readonly activation: HiddenActivation;

  /** A network over existing parameters (laid out as described above), or zeros. */
  constructor(sizes: readonly number[], parameters?: Float64Array, activation: HiddenActivation = 'relu') {
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw errors.invalidArgument(
        `layer sizes must be two or more positive integers, got [${sizes.join(', ')}]`,
      );
    }
    if (!HIDDEN_ACTIVATIONS.includes(activation)) {
      throw errors.invalidArgument(
        `activation must be one of ${HIDDEN_ACTIVATIONS.join(', ')}, got '${String(activation)}'`,
      );
    }
    const count = parameterCountOf(sizes);
    if (parameters !== undefined && parameters.length !== count) {
      throw errors.invalidArgument(
        `a [${sizes.join(', ')}] network has ${count} parameters, got ${parameters.length}`,
      );
    }
    this.sizes = [...sizes];
    this.parameters = parameters ?? new Float64Array(count);
    this.layers = this.layerViews(this.parameters);
    this.activation = activation;
  }

  /** Glorot-uniform weights (bound √(6 / (fan_in + fan_out))) and zero biases. */
  static initialized(
    sizes: readonly number[],
    random: Random,
    activation: HiddenActivation = 'relu',
  ): DenseNetwork {
    const network = new DenseNetwork(sizes, undefined, activation);
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

  /** An independent copy (same sizes, activation and parameter values). */
  clone(): DenseNetwork {
    return new DenseNetwork(this.sizes, Float64Array.from(this.parameters), this.activation);
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

  /** A workspace for batches of up to `maxRows` rows. */
  workspace(maxRows: number): NetworkWorkspace {
    return new NetworkWorkspace(this.sizes, maxRows);
  }

  private checkInput(x: FeatureMatrix, rows: number): void {
    if (x.length !== rows * this.inputSize) {
      throw errors.invalidArgument(
        `expected ${rows} rows of ${this.inputSize} features (${rows * this.inputSize} values), got ${x.length}`,
      );
    }
  }

  /** Output-layer values (before softmax or any output function) for `rows` rows of `x`. */
  forward(x: FeatureMatrix, rows: number): Float64Array {
    this.checkInput(x, rows);
    // A fresh workspace, so the result belongs to the caller.
    return this.forwardBatch(x, rows, this.workspace(Math.max(rows, 1)));
  }

  /** Forward pass that keeps every layer's activations for `backward`. */
  forwardTrace(x: FeatureMatrix, rows: number): ForwardTrace {
    this.checkInput(x, rows);
    const ws = this.workspace(Math.max(rows, 1));
    this.forwardBatch(x, rows, ws);
    return [x, ...ws.activations.map((a, l) => a.subarray(0, rows * (this.sizes[l + 1] as number)))];
  }

  /**
   * Forward pass into `ws`; returns the output values (a view into `ws`, valid until its next use).
   * The caller checks the shape: this is the training inner loop.
   */
  forwardBatch(x: FeatureMatrix, rows: number, ws: NetworkWorkspace): Float64Array {
    let input: Float64Array;
    if (x instanceof Float64Array) input = x;
    else {
      input = ws.input.subarray(0, x.length);
      input.set(x);
    }
    const last = this.layers.length - 1;
    for (let l = 0; l <= last; l++) {
      const { inputs, outputs, weights, bias } = this.layers[l] as DenseLayer;
      const out = (ws.activations[l] as Float64Array).subarray(0, rows * outputs);
      multiplyTransposed(input, rows, weights, outputs, inputs, out, false);
      for (let r = 0; r < rows; r++) {
        const base = r * outputs;
        for (let o = 0; o < outputs; o++) out[base + o] = (out[base + o] as number) + (bias[o] as number);
      }
      if (l < last) {
        if (this.activation === 'relu') {
          for (let k = 0; k < out.length; k++) if (!((out[k] as number) > 0)) out[k] = 0;
        } else {
          for (let k = 0; k < out.length; k++) out[k] = Math.tanh(out[k] as number);
        }
      }
      input = out;
    }
    return input;
  }

  /**
   * Backward pass after `forwardBatch(x, rows, ws)` with the output gradient written into
   * `ws.outputDelta(rows)`: adds ∂loss/∂parameters into `gradient` (the caller zeroes it).
   */
  backwardBatch(x: FeatureMatrix, rows: number, ws: NetworkWorkspace, gradient: Float64Array): void {
    const inputs: Float64Array[] = [x instanceof Float64Array ? x : ws.input.subarray(0, x.length)];
    for (let l = 0; l + 1 < this.layers.length; l++) inputs.push(ws.activations[l] as Float64Array);
    this.backpropagate(inputs, ws.deltas, rows, gradient, ws);
  }

  /**
   * Back-propagate `outputGradient` (∂loss/∂output values, rows × outputSize) through the pass in
   * `trace`, adding ∂loss/∂parameters into `gradient` (same layout as `parameters`; the caller zeroes it).
   */
  backward(trace: ForwardTrace, outputGradient: Float64Array, rows: number, gradient: Float64Array): void {
    const ws = this.workspace(Math.max(rows, 1));
    const inputs = trace
      .slice(0, this.layers.length)
      .map((a) => (a instanceof Float64Array ? a : Float64Array.from(a)));
    ws.outputDelta(rows).set(outputGradient.subarray(0, rows * this.outputSize));
    this.backpropagate(inputs, ws.deltas, rows, gradient, ws);
  }

  private backpropagate(
    inputs: Float64Array[],
    deltas: Float64Array[],
    rows: number,
    gradient: Float64Array,
    ws: NetworkWorkspace,
  ): void {
    const grads = this.layerViews(gradient);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const { inputs: width, outputs, weights } = this.layers[l] as DenseLayer;
      const g = grads[l] as DenseLayer;
      const input = inputs[l] as Float64Array;
      const delta = deltas[l] as Float64Array;
      // ∂W = Δᵀ·X, as (Δᵀ)·(Xᵀ)ᵀ so that the kernel's inner loop runs over contiguous rows.
      const deltaT = transposeInto(delta, rows, outputs, ws.transposedA);
      const inputT = transposeInto(input, rows, width, ws.transposedB);
      multiplyTransposed(deltaT, outputs, inputT, width, rows, g.weights, true);
      for (let o = 0; o < outputs; o++) {
        let sum = 0;
        const base = o * rows;
        for (let r = 0; r < rows; r++) sum += deltaT[base + r] as number;
        g.bias[o] = (g.bias[o] as number) + sum;
      }
      if (l === 0) break;
      // ∂X = Δ·W, as Δ·(Wᵀ)ᵀ, then through the derivative of the previous layer's activation.
      const weightsT = transposeInto(weights, outputs, width, ws.transposedWeights);
      const below = (deltas[l - 1] as Float64Array).subarray(0, rows * width);
      multiplyTransposed(delta, rows, weightsT, width, outputs, below, false);
      if (this.activation === 'relu') {
        for (let k = 0; k < below.length; k++) if (!((input[k] as number) > 0)) below[k] = 0;
      } else {
        for (let k = 0; k < below.length; k++) {
          const a = input[k] as number;
          below[k] = (below[k] as number) * (1 - a * a);
        }
      }
    }
  }

  /** Round every parameter to float32, the precision an exported graph stores it in. */
  roundToFloat32(): void {
    this.parameters.set(Float32Array.from(this.parameters));
  }
}
