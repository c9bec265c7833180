/**
 * One epoch of mini-batch Adam for an MLP as a single ONNX graph, so that onnxruntime's native
 * kernels (MLAS) do the arithmetic the TypeScript trainer does in JavaScript: a Loop over the
 * batches whose body runs the forward pass, the hand-written backward pass and the Adam step.
 *
 * Same objective and optimizer as objective.ts + optimizer.ts: mean cross-entropy of the softmax
 * head (log-probabilities clipped at log 1e-15), or half the mean squared error; + ½·l2·‖W‖² over
 * weights only; a short last batch is a mean over its own rows. Adam's bias-corrected step size and
 * ε̂ come in per batch (`step_sizes`, `epsilons`), computed in float64 by `adamSchedule` exactly as
 * the TypeScript Adam folds them, so the graph needs no step counter.
 *
 * Parameters, Adam's m and v travel as flat vectors in DenseNetwork's layout (per layer: weights
 * outputs × inputs row-major, then the biases): one vector each means one Split in and one Concat
 * out per batch, and a single set of Adam nodes for all layers. With validation rows, the graph also
 * scores them at the epoch's final parameters, so early stopping needs no forward pass in JavaScript.
 *
 * Speed (digits, 64 → [64] → 10, one core): ~45 kernels per batch, so small batches cost per-kernel
 * overhead rather than arithmetic; unrolling several batches per Loop iteration measured no faster.
 */
import type { ModelProto } from '../onnx/proto.js';
import { GraphBuilder } from '../onnx/builder.js';
import {
  batchCount,
  checkEpochGraphSpec,
  EPOCH_INPUTS,
  EPOCH_OUTPUTS,
  parameterCount,
  type EpochGraphSpec,
} from './epoch-graph-spec.js';

/** ln(1e-15): the objective's probability floor, applied to log-probabilities. */
const LOG_PROBABILITY_FLOOR = Math.log(1e-15);

/** Build the epoch graph (opset 17) for `spec`. */
export function buildEpochGraph(spec: EpochGraphSpec): ModelProto {
  checkEpochGraphSpec(spec);
  const { sizes, rows, batchSize } = spec;
  const layers = sizes.length - 1;
  const inputs = sizes[0] as number;
  const outputs = sizes[layers] as number;
  const count = parameterCount(sizes);
  const batches = batchCount(rows, batchSize);
  const validationRows = spec.validationRows ?? 0;
  const classification = spec.task === 'classification';
  const I = EPOCH_INPUTS;
  const O = EPOCH_OUTPUTS;

  const g = new GraphBuilder('mlp_epoch')
    .input(I.features, 'FP32', [rows, inputs])
    .input(I.targets, 'FP32', [rows, outputs])
    .input(I.order, 'INT32', [rows])
    .input(I.parameters, 'FP32', [count])
    .input(I.adamM, 'FP32', [count])
    .input(I.adamV, 'FP32', [count])
    .input(I.stepSizes, 'FP32', [batches])
    .input(I.epsilons, 'FP32', [batches]);
  if (validationRows > 0) {
    g.input(I.validationFeatures, 'FP32', [validationRows, inputs]).input(I.validationTargets, 'FP32', [
      validationRows,
      outputs,
    ]);
  }

  // Per-batch row ranges and 1/rows, fixed by rows and batch size: constants each step gathers by batch number.
  const starts = new BigInt64Array(batches);
  const ends = new BigInt64Array(batches);
  const scales = new Float32Array(batches);
  for (let b = 0; b < batches; b++) {
    const start = b * batchSize;
    const end = Math.min(start + batchSize, rows);
    starts[b] = BigInt(start);
    ends[b] = BigInt(end);
    scales[b] = 1 / (end - start);
  }
  const splitSizes: number[] = [];
  for (let l = 0; l < layers; l++)
    splitSizes.push((sizes[l] as number) * (sizes[l + 1] as number), sizes[l + 1] as number);
  const scalar = (name: string, value: number) => g.initializer(name, new Float32Array([value]), []);
  g.initializer('batch_starts', starts, [batches, 1])
    .initializer('batch_ends', ends, [batches, 1])
    .initializer('batch_scales', scales, [batches])
    .initializer('parameter_split', BigInt64Array.from(splitSizes, BigInt), [splitSizes.length])
    .initializer('axis_0', new BigInt64Array([0n]), [1])
    .initializer('flat_shape', new BigInt64Array([-1n]), [1]);
  scalar('beta1', spec.beta1);
  scalar('one_minus_beta1', 1 - spec.beta1);
  scalar('beta2', spec.beta2);
  scalar('one_minus_beta2', 1 - spec.beta2);
  // onnxruntime warns about unused initializers, so each constant is declared only where a node reads it.
  if (classification) scalar('log_floor', LOG_PROBABILITY_FLOOR);
  else scalar('half', 0.5);
  if (layers > 1) scalar(spec.activation === 'relu' ? 'zero' : 'one', spec.activation === 'relu' ? 0 : 1);
  for (let l = 0; l < layers; l++) {
    g.initializer(
      `weight_shape_${l}`,
      new BigInt64Array([BigInt(sizes[l + 1] as number), BigInt(sizes[l] as number)]),
      [2],
    );
  }

  // The rows in this epoch's order, once, so each batch is a contiguous slice.
  g.node('Gather', [I.features, I.order], ['x_epoch'], { axis: { int: 0 } });
  g.node('Gather', [I.targets, I.order], ['y_epoch'], { axis: { int: 0 } });
  scalar('loss_start', 0);
  g.initializer('batch_count', new BigInt64Array([BigInt(batches)]), []);
  g.node(
    'Loop',
    ['batch_count', '', I.parameters, I.adamM, I.adamV, 'loss_start'],
    [O.parameters, O.adamM, O.adamV, 'loss_total'],
    {
      body: { graph: buildLoopBody(spec, count) },
    },
  );
  // Regression accumulated Σd²; the objective is ½ of it.
  g.node(classification ? 'Identity' : 'Mul', classification ? ['loss_total'] : ['loss_total', 'half'], [
    O.lossSum,
  ]);
  g.output(O.parameters, 'FP32', [count])
    .output(O.adamM, 'FP32', [count])
    .output(O.adamV, 'FP32', [count])
    .output(O.lossSum, 'FP32', []);
  if (validationRows > 0) emitValidation(g, spec, O.parameters);
  return g.build({ opset: 17, producerName: 'tend', docString: 'one epoch of mini-batch Adam (tend train)' });
}

/** The data loss summed over the validation rows (and, classifying, how many rows are right) at parameters `p`. */
function emitValidation(g: GraphBuilder, spec: EpochGraphSpec, p: string): void {
  const O = EPOCH_OUTPUTS;
  const { z } = emitForward(g, spec, 'val_', EPOCH_INPUTS.validationFeatures, p);
  const y = EPOCH_INPUTS.validationTargets;
  if (spec.task === 'classification') {
    g.node('LogSoftmax', [z], ['val_log_p'], { axis: { int: -1 } });
    g.node('Max', ['val_log_p', 'log_floor'], ['val_log_p_clipped']);
    g.node('Mul', ['val_log_p_clipped', y], ['val_log_likelihood']);
    g.node('ReduceSum', ['val_log_likelihood'], ['val_total_log_likelihood'], { keepdims: { int: 0 } });
    g.node('Neg', ['val_total_log_likelihood'], [O.validationLossSum]);
    // ArgMax keeps the first of equal values, as the TypeScript evaluation does.
    g.node('ArgMax', [z], ['val_predicted'], { axis: { int: 1 }, keepdims: { int: 0 } });
    g.node('ArgMax', [y], ['val_label'], { axis: { int: 1 }, keepdims: { int: 0 } });
    g.node('Equal', ['val_predicted', 'val_label'], ['val_hit']);
    g.node('Cast', ['val_hit'], ['val_hit_float'], { to: { int: 1 } });
    g.node('ReduceSum', ['val_hit_float'], [O.validationCorrect], { keepdims: { int: 0 } });
    g.output(O.validationLossSum, 'FP32', []).output(O.validationCorrect, 'FP32', []);
  } else {
    g.node('Sub', [z, y], ['val_residual']);
    g.node('ReduceSumSquare', ['val_residual'], ['val_squares'], { keepdims: { int: 0 } });
    g.node('Mul', ['val_squares', 'half'], [O.validationLossSum]);
    g.output(O.validationLossSum, 'FP32', []);
  }
}

/** The value names of Adam's state between two batches. */
interface StepState {
  p: string;
  m: string;
  v: string;
  loss: string;
}

/**
 * The forward pass on `x` with the flat parameters `p`: Split into layers, then Gemm (+ activation)
 * per layer. Returns each layer's input (after its activation), the weight names and the output values.
 */
function emitForward(
  g: GraphBuilder,
  spec: EpochGraphSpec,
  tag: string,
  x: string,
  p: string,
): { inputs: string[]; weights: string[]; z: string } {
  const layers = spec.sizes.length - 1;
  const pieces: string[] = [];
  for (let l = 0; l < layers; l++) pieces.push(`${tag}w_flat_${l}`, `${tag}b_${l}`);
  g.node('Split', [p, 'parameter_split'], pieces, { axis: { int: 0 } });
  const weights: string[] = [];
  const inputs: string[] = [x];
  let z = '';
  for (let l = 0; l < layers; l++) {
    const w = `${tag}w_${l}`;
    g.node('Reshape', [`${tag}w_flat_${l}`, `weight_shape_${l}`], [w]);
    weights.push(w);
    z = l === layers - 1 ? `${tag}z` : `${tag}h_${l}`;
    g.node('Gemm', [inputs[l] as string, w, `${tag}b_${l}`], [z], { transB: { int: 1 } });
    if (l < layers - 1) {
      const a = `${tag}a_${l}`;
      g.node(spec.activation === 'relu' ? 'Relu' : 'Tanh', [z], [a]);
      inputs.push(a);
    }
  }
  return { inputs, weights, z };
}

/**
 * One batch: slice its rows, forward, backward, Adam, from `state` into `next`. `index` is the
 * batch number (INT64 scalar); `tag` prefixes every other value name.
 */
function emitBatchStep(
  g: GraphBuilder,
  spec: EpochGraphSpec,
  tag: string,
  index: string,
  state: StepState,
  next: StepState,
): void {
  const n = (stem: string): string => `${tag}${stem}`;
  const layers = spec.sizes.length - 1;
  const gather = (table: string, out: string) =>
    g.node('Gather', [table, index], [n(out)], { axis: { int: 0 } });
  gather('batch_starts', 'start');
  gather('batch_ends', 'end');
  g.node('Slice', ['x_epoch', n('start'), n('end')], [n('x')]);
  g.node('Slice', ['y_epoch', n('start'), n('end')], [n('y')]);
  gather('batch_scales', 'scale');
  gather(EPOCH_INPUTS.stepSizes, 'step');
  gather(EPOCH_INPUTS.epsilons, 'eps_hat');
  const { inputs, weights, z } = emitForward(g, spec, tag, n('x'), state.p);

  // Output gradient (already divided by the batch rows) and the batch's summed loss.
  const loss = next.loss;
  if (spec.task === 'classification') {
    g.node('LogSoftmax', [z], [n('log_p')], { axis: { int: -1 } });
    g.node('Exp', [n('log_p')], [n('prob')]);
    g.node('Sub', [n('prob'), n('y')], [n('residual')]);
    g.node('Max', [n('log_p'), 'log_floor'], [n('log_p_clipped')]);
    g.node('Mul', [n('log_p_clipped'), n('y')], [n('log_likelihood')]);
    g.node('ReduceSum', [n('log_likelihood')], [n('batch_log_likelihood')], { keepdims: { int: 0 } });
    g.node('Sub', [state.loss, n('batch_log_likelihood')], [loss]);
  } else {
    g.node('Sub', [z, n('y')], [n('residual')]);
    // Regression accumulates Σd²; the ½ is applied once at the end of the epoch.
    g.node('ReduceSumSquare', [n('residual')], [n('batch_squares')], { keepdims: { int: 0 } });
    g.node('Add', [state.loss, n('batch_squares')], [loss]);
  }
  g.node('Mul', [n('residual'), n('scale')], [n('delta_out')]);

  // Backward, last layer first: ∂W = Δᵀ·A (+ l2·W through Gemm's C), ∂b = Σ rows of Δ, ∂A = Δ·W.
  const gradient: string[] = new Array<string>(2 * layers);
  let delta = n('delta_out');
  for (let l = layers - 1; l >= 0; l--) {
    const dw = n(`dw_${l}`);
    const w = weights[l] as string;
    const input = inputs[l] as string;
    if (spec.l2 > 0)
      g.node('Gemm', [delta, input, w], [dw], { transA: { int: 1 }, beta: { float: spec.l2 } });
    else g.node('Gemm', [delta, input], [dw], { transA: { int: 1 } });
    g.node('Reshape', [dw, 'flat_shape'], [n(`dw_flat_${l}`)]);
    g.node('ReduceSum', [delta, 'axis_0'], [n(`db_${l}`)], { keepdims: { int: 0 } });
    gradient[2 * l] = n(`dw_flat_${l}`);
    gradient[2 * l + 1] = n(`db_${l}`);
    if (l === 0) break;
    const dA = n(`da_${l - 1}`);
    const dH = n(`dh_${l - 1}`);
    g.node('MatMul', [delta, w], [dA]);
    if (spec.activation === 'relu') {
      g.node('Greater', [input, 'zero'], [n(`relu_mask_${l - 1}`)]);
      g.node('Where', [n(`relu_mask_${l - 1}`), dA, 'zero'], [dH]);
    } else {
      g.node('Mul', [input, input], [n(`tanh_square_${l - 1}`)]);
      g.node('Sub', ['one', n(`tanh_square_${l - 1}`)], [n(`tanh_slope_${l - 1}`)]);
      g.node('Mul', [dA, n(`tanh_slope_${l - 1}`)], [dH]);
    }
    delta = dH;
  }
  g.node('Concat', gradient, [n('g')], { axis: { int: 0 } });

  // Adam, as optimizer.ts: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − step·m / (√v + ε̂).
  g.node('Mul', [state.m, 'beta1'], [n('m_decayed')]);
  g.node('Mul', [n('g'), 'one_minus_beta1'], [n('g_scaled')]);
  g.node('Add', [n('m_decayed'), n('g_scaled')], [next.m]);
  g.node('Mul', [n('g'), n('g')], [n('g_squared')]);
  g.node('Mul', [state.v, 'beta2'], [n('v_decayed')]);
  g.node('Mul', [n('g_squared'), 'one_minus_beta2'], [n('g_squared_scaled')]);
  g.node('Add', [n('v_decayed'), n('g_squared_scaled')], [next.v]);
  g.node('Sqrt', [next.v], [n('v_root')]);
  g.node('Add', [n('v_root'), n('eps_hat')], [n('denominator')]);
  g.node('Mul', [next.m, n('step')], [n('m_step')]);
  g.node('Div', [n('m_step'), n('denominator')], [n('update')]);
  g.node('Sub', [state.p, n('update')], [next.p]);
}

/** The Loop body: batch number i. */
function buildLoopBody(spec: EpochGraphSpec, count: number): ReturnType<GraphBuilder['buildGraph']> {
  const body = new GraphBuilder('batch_step')
    .input('i', 'INT64', [])
    .input('cond_in', 'BOOL', [])
    .input('p', 'FP32', [count])
    .input('m', 'FP32', [count])
    .input('v', 'FP32', [count])
    .input('loss', 'FP32', []);
  body.node('Identity', ['cond_in'], ['cond_out']);
  emitBatchStep(
    body,
    spec,
    '',
    'i',
    { p: 'p', m: 'm', v: 'v', loss: 'loss' },
    { p: 'p_out', m: 'm_out', v: 'v_out', loss: 'loss_out' },
  );
  body
    .output('cond_out', 'BOOL', [])
    .output('p_out', 'FP32', [count])
    .output('m_out', 'FP32', [count])
    .output('v_out', 'FP32', [count])
    .output('loss_out', 'FP32', []);
  return body.buildGraph();
}
