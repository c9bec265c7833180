/**
 * Limited-memory BFGS for the smooth convex objectives of logistic and softmax regression, with a
 * backtracking (Armijo) line search. Full-batch and free of randomness, so a result depends only on
 * the data and the starting point.
 */

/** Objective at `x`; writes its gradient into `gradient` (overwriting it). */
export type ObjectiveFunction = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  /** Default 1000. */
  maxIterations?: number;
  /** Stop when max |gradient| ≤ this. Default 1e-6. */
  gradientTolerance?: number;
  /** Stop when the objective falls by less than this × max(|f|, 1) in an iteration. Default 1e-12. */
  relativeTolerance?: number;
  /** Pairs of updates remembered. Default 10. */
  memory?: number;
  /** Called after each iteration with its objective value. */
  onIteration?: (iteration: number, value: number) => void;
}

export interface LbfgsResult {
  value: number;
  iterations: number;
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

/** Minimize `f` starting from `x` (updated in place to the minimizer found). */
export function minimizeLbfgs(
  f: ObjectiveFunction,
  x: Float64Array,
  options: LbfgsOptions = {},
): LbfgsResult {
  const n = x.length;
  const maxIterations = options.maxIterations ?? 1000;
  const gradientTolerance = options.gradientTolerance ?? 1e-6;
  const relativeTolerance = options.relativeTolerance ?? 1e-12;
  const memory = options.memory ?? 10;
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(memory);
  const gradient = new Float64Array(n);
  const nextGradient = new Float64Array(n);
  const direction = new Float64Array(n);
  const candidate = new Float64Array(n);
  let value = f(x, gradient);
  if (maxAbs(gradient) <= gradientTolerance) return { value, iterations: 0, converged: true };

  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    // Two-loop recursion: direction = −H·g.
    direction.set(gradient);
    for (let k = s.length - 1; k >= 0; k--) {
      const a = (rho[k] as number) * dot(s[k] as Float64Array, direction);
      alpha[k] = a;
      const yk = y[k] as Float64Array;
      for (let i = 0; i < n; i++) direction[i] = (direction[i] as number) - a * (yk[i] as number);
    }
    let scale = 1 / Math.max(maxAbs(gradient), 1);
    if (s.length > 0) {
      const last = s.length - 1;
      const yy = dot(y[last] as Float64Array, y[last] as Float64Array);
      scale = yy > 0 ? 1 / ((rho[last] as number) * yy) : 1;
    }
    for (let i = 0; i < n; i++) direction[i] = (direction[i] as number) * scale;
    for (let k = 0; k < s.length; k++) {
      const b = (rho[k] as number) * dot(y[k] as Float64Array, direction);
      const sk = s[k] as Float64Array;
      const a = alpha[k] as number;
      for (let i = 0; i < n; i++) direction[i] = (direction[i] as number) + (a - b) * (sk[i] as number);
    }
    for (let i = 0; i < n; i++) direction[i] = -(direction[i] as number);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Not a descent direction (curvature information gone stale): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) direction[i] = -(gradient[i] as number) * scale;
      slope = dot(gradient, direction);
    }

    let step = 1;
    let nextValue = Infinity;
    for (let tries = 0; tries < 60; tries++) {
      for (let i = 0; i < n; i++) candidate[i] = (x[i] as number) + step * (direction[i] as number);
      nextValue = f(candidate, nextGradient);
      if (nextValue <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(nextValue <= value)) return { value, iterations: iteration, converged: false };

    const sNew = new Float64Array(n);
    const yNew = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sNew[i] = (candidate[i] as number) - (x[i] as number);
      yNew[i] = (nextGradient[i] as number) - (gradient[i] as number);
    }
    const sy = dot(sNew, yNew);
    // Keep only pairs with positive curvature, so the implied Hessian stays positive definite.
    if (sy > 1e-12 * Math.sqrt(dot(sNew, sNew) * dot(yNew, yNew))) {
      if (s.length === memory) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sNew);
      y.push(yNew);
      rho.push(1 / sy);
    }
    const previous = value;
    x.set(candidate);
    gradient.set(nextGradient);
    value = nextValue;
    options.onIteration?.(iteration, value);
    if (maxAbs(gradient) <= gradientTolerance) return { value, iterations: iteration, converged: true };
    if (previous - value <= relativeTolerance * Math.max(Math.abs(value), 1))
      return { value, iterations: iteration, converged: true };
  }
  return { value, iterations: maxIterations, converged: false };
}
