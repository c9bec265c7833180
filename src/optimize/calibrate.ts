/**
 * Calibration for static int8 quantization: which activations to measure, a model that outputs
 * them, and the range each one gets from the values seen on a sample.
 *
 * - minmax: the smallest and largest value seen.
 * - percentile (default 99.999): the range that holds that share of the values, cutting rare
 *   outliers that would otherwise widen the scale for everything else.
 * - entropy: the clipping threshold on |x| whose 128-level quantized histogram has the least
 *   Kullback-Leibler divergence from the measured one (TensorRT's calibration).
 * Percentile and entropy need a histogram over a known range, so they take two passes over the
 * sample: the first (minmax) fixes the range, the second fills 2048 bins.
 */
import { errors } from '../core/errors.js';
import { clone, create, ModelProtoSchema, ValueInfoProtoSchema } from '../onnx/index.js';
import type { ModelProto } from '../onnx/index.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];
export const DEFAULT_PERCENTILE = 99.999;
const BINS = 2048;
const QUANTIZED_BINS = 128;

export interface ActivationRange {
  min: number;
  max: number;
}

/** A copy of `model` that also outputs every tensor in `names` (as float32). */
export function withCalibrationOutputs(model: ModelProto, names: readonly string[]): ModelProto {
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph;
  if (graph === undefined) throw errors.invalidModel('the model has no graph');
  const present = new Set(graph.output.map((o) => o.name));
  for (const name of names) {
    if (present.has(name)) continue;
    // No declared type: onnxruntime infers it, and a value the graph does not type (exports without
    // shape inference) may turn out not to be float; the caller keeps only FP32 outputs.
    graph.output.push(create(ValueInfoProtoSchema, { name }));
  }
  return out;
}

/** Collects the values of the calibrated tensors over a sample and turns them into ranges. */
export class RangeCollector {
  private readonly minmax = new Map<string, ActivationRange>();
  private readonly histograms = new Map<string, Float64Array>();
  private histogramPass = false;

  constructor(
    readonly method: CalibrationMethod,
    readonly percentile = DEFAULT_PERCENTILE,
  ) {
    if (!CALIBRATION_METHODS.includes(method))
      throw errors.invalidArgument(
        `--calibrate '${String(method)}' must be one of ${CALIBRATION_METHODS.join(', ')}`,
      );
    if (!(percentile > 50 && percentile <= 100))
      throw errors.invalidArgument(`percentile ${percentile} must be above 50 and at most 100`);
  }

  /** Whether the sample must be run a second time (after `startHistograms`). */
  get needsSecondPass(): boolean {
    return this.method !== 'minmax';
  }

  /** First pass: the range of each tensor. */
  addRange(name: string, data: Float32Array): void {
    const r = this.minmax.get(name) ?? { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
    for (const v of data) {
      if (v < r.min) r.min = v;
      if (v > r.max) r.max = v;
    }
    this.minmax.set(name, r);
  }

  /** Second pass: histograms over the ranges of the first (of x for percentile, of |x| for entropy). */
  startHistograms(): void {
    this.histogramPass = true;
  }

  addHistogram(name: string, data: Float32Array): void {
    const r = this.minmax.get(name);
    if (!this.histogramPass || r === undefined) return;
    const h = this.histograms.get(name) ?? new Float64Array(BINS);
    const [lo, hi] =
      this.method === 'entropy' ? [0, Math.max(Math.abs(r.min), Math.abs(r.max))] : [r.min, r.max];
    const width = (hi - lo) / BINS;
    for (const raw of data) {
      const v = this.method === 'entropy' ? Math.abs(raw) : raw;
      const bin = width > 0 ? Math.min(BINS - 1, Math.max(0, Math.floor((v - lo) / width))) : 0;
      h[bin] = (h[bin] ?? 0) + 1;
    }
    this.histograms.set(name, h);
  }

  /** Add one run's tensor: to the ranges on the first pass, to the histograms on the second. */
  add(name: string, data: Float32Array): void {
    if (this.histogramPass) this.addHistogram(name, data);
    else this.addRange(name, data);
  }

  /**
   * The calibrated range of every tensor seen; `exact` names keep their full range (the model's
   * outputs: clipping the answer itself changes which class wins).
   */
  ranges(exact: ReadonlySet<string> = new Set()): Map<string, ActivationRange> {
    const out = new Map<string, ActivationRange>();
    for (const [name, r] of this.minmax) {
      const h = this.histograms.get(name);
      if (this.method === 'minmax' || h === undefined || !(r.max > r.min) || exact.has(name))
        out.set(name, { ...r });
      else if (this.method === 'percentile') out.set(name, percentileRange(h, r, this.percentile));
      else {
        const t = entropyThreshold(h, Math.max(Math.abs(r.min), Math.abs(r.max)));
        out.set(name, { min: Math.max(r.min, -t), max: Math.min(r.max, t) });
      }
    }
    return out;
  }
}

/** The range holding `percentile` % of the values, (100 − p) / 2 % cut from each end. */
export function percentileRange(h: Float64Array, r: ActivationRange, percentile: number): ActivationRange {
  const total = h.reduce((a, b) => a + b, 0);
  const cut = (total * (100 - percentile)) / 200;
  const width = (r.max - r.min) / h.length;
  let below = 0;
  let lo = 0;
  while (lo < h.length - 1 && below + (h[lo] ?? 0) <= cut) below += h[lo++] ?? 0;
  let above = 0;
  let hi = h.length - 1;
  while (hi > lo && above + (h[hi] ?? 0) <= cut) above += h[hi--] ?? 0;
  return {
    min: lo === 0 ? r.min : r.min + lo * width,
    max: hi === h.length - 1 ? r.max : r.min + (hi + 1) * width,
  };
}

function kl(p: Float64Array, q: Float64Array): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = (p[i] ?? 0) / sp;
    const qi = (q[i] ?? 0) / sq;
    if (pi > 0) d += qi > 0 ? pi * Math.log(pi / qi) : pi * 20; // an empty q bin where p has mass: a large penalty
  }
  return d;
}

/** The |x| threshold (over a histogram of |x| on [0, absMax]) whose `levels`-level quantization loses least. */
export function entropyThreshold(h: Float64Array, absMax: number, levels = QUANTIZED_BINS): number {
  const bins = h.length;
  let best = bins;
  let bestDivergence = Number.POSITIVE_INFINITY;
  for (let i = levels; i <= bins; i += 16) {
    const p = h.slice(0, i);
    let outliers = 0;
    for (let j = i; j < bins; j++) outliers += h[j] ?? 0;
    p[i - 1] = (p[i - 1] ?? 0) + outliers;
    // Merge the i bins into `levels` levels, then spread each level evenly over its non-empty bins.
    const q = new Float64Array(i);
    const step = i / levels;
    for (let k = 0; k < levels; k++) {
      const from = Math.floor(k * step);
      const to = k === levels - 1 ? i : Math.floor((k + 1) * step);
      let sum = 0;
      let nonEmpty = 0;
      for (let j = from; j < to; j++) {
        sum += h[j] ?? 0;
        if ((h[j] ?? 0) > 0) nonEmpty++;
      }
      for (let j = from; j < to; j++) if ((h[j] ?? 0) > 0) q[j] = sum / nonEmpty;
    }
    const d = kl(p, q);
    if (d < bestDivergence) {
      bestDivergence = d;
      best = i;
    }
  }
  return (best / bins) * absMax;
}
