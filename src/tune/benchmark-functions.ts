/**
 * Standard test functions for samplers (minimize): Branin (2-d, minimum 0.397887) and Hartmann-6
 * (6-d on [0,1]^6, minimum -3.32237), with their search spaces. Used by the tests and by the
 * tune benchmark against Optuna, so both sides optimize the same thing.
 */
import { parseSpace, type Params, type SearchSpace } from './space.js';

export function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI * Math.PI);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

export const BRANIN_SPACE: SearchSpace = parseSpace({
  x1: { type: 'float', low: -5, high: 10 },
  x2: { type: 'float', low: 0, high: 15 },
});

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];

export function hartmann6(x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) {
      inner += (H_A[i] as number[])[j]! * ((x[j] as number) - (H_P[i] as number[])[j]! * 1e-4) ** 2;
    }
    sum += H_ALPHA[i]! * Math.exp(-inner);
  }
  return -sum;
}

export const HARTMANN6_SPACE: SearchSpace = parseSpace(
  Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i + 1}`, { type: 'float', low: 0, high: 1 }])),
);

/** The benchmark functions by name, each taking trial parameters. */
export const BENCHMARK_FUNCTIONS: Record<
  string,
  { space: SearchSpace; f: (p: Params) => number; optimum: number }
> = {
  branin: { space: BRANIN_SPACE, f: (p) => branin(p.x1 as number, p.x2 as number), optimum: 0.397887 },
  hartmann6: {
    space: HARTMANN6_SPACE,
    f: (p) => hartmann6([1, 2, 3, 4, 5, 6].map((i) => p[`x${i}`] as number)),
    optimum: -3.32237,
  },
};
