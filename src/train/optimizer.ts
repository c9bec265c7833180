/**
 * First-order optimizers over a flat parameter vector. They keep their own state (moments,
 * velocity), so one instance belongs to one training run.
 */
import { errors } from '../core/errors.js';

export interface Optimizer {
  /** Move `parameters` against `gradient` (same length) by one step. */
  step(parameters: Float64Array, gradient: Float64Array): void;
}

function checkRate(learningRate: number): void {
  if (!(learningRate > 0 && Number.isFinite(learningRate))) {
    throw errors.invalidArgument(`learning rate must be a positive number, got ${learningRate}`);
  }
}

export interface AdamOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Adam (Kingma & Ba) with bias-corrected moment estimates. */
export class Adam implements Optimizer {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  private readonly learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(size: number, options: AdamOptions = {}) {
    this.learningRate = options.learningRate ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    checkRate(this.learningRate);
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  step(parameters: Float64Array, gradient: Float64Array): void {
    this.t++;
    const { m, v, beta1, beta2, epsilon } = this;
    // Folding the bias corrections into the step size saves two divisions per parameter.
    const stepSize = (this.learningRate * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    const epsilonHat = epsilon * Math.sqrt(1 - beta2 ** this.t);
    for (let i = 0; i < parameters.length; i++) {
      const g = gradient[i] as number;
      const mi = beta1 * (m[i] as number) + (1 - beta1) * g;
      const vi = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      parameters[i] = (parameters[i] as number) - (stepSize * mi) / (Math.sqrt(vi) + epsilonHat);
    }
  }
}

export interface SgdOptions {
  learningRate?: number;
  /** 0 for plain SGD. */
  momentum?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent with (optionally Nesterov) momentum. */
export class SgdMomentum implements Optimizer {
  private readonly velocity: Float64Array;
  private readonly learningRate: number;
  private readonly momentum: number;
  private readonly nesterov: boolean;

  constructor(size: number, options: SgdOptions = {}) {
    this.learningRate = options.learningRate ?? 1e-2;
    this.momentum = options.momentum ?? 0.9;
    this.nesterov = options.nesterov ?? false;
    checkRate(this.learningRate);
    if (!(this.momentum >= 0 && this.momentum < 1)) {
      throw errors.invalidArgument(`momentum must be in [0, 1), got ${this.momentum}`);
    }
    this.velocity = new Float64Array(size);
  }

  step(parameters: Float64Array, gradient: Float64Array): void {
    const { velocity, learningRate, momentum, nesterov } = this;
    for (let i = 0; i < parameters.length; i++) {
      const g = gradient[i] as number;
      const vi = momentum * (velocity[i] as number) - learningRate * g;
      velocity[i] = vi;
      parameters[i] = (parameters[i] as number) + (nesterov ? momentum * vi - learningRate * g : vi);
    }
  }
}
