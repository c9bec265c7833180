/** The few statistics the benchmark report needs. */

export { median } from '../core/percentile.js';

/** a / b, or NaN when b is not a positive number. */
export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN;
}
