/**
 * How closely a shadow version answers like the champion, accumulated per endpoint from pairs of
 * outputs of the same request. Pure (no I/O, no clock unless given one): the engine feeds it off
 * the hot path and the management API shows `snapshot()`.
 *
 * Agreement is per row (the first dimension is the batch): for a 2-D float output with at least two
 * columns (scores, probabilities), rows agree when their argmax is equal; for integer, bool and
 * string outputs, when every element is equal. Other float outputs (regressions, embeddings) have
 * no agreement, only differences. Absolute differences are taken over float outputs.
 */
import { halfBitsToFloat } from '../../core/fp16.js';
import type { DataType, Tensor } from '../../core/tensor.js';
import { elementCount } from '../../core/tensor.js';

const FLOAT_TYPES: ReadonlySet<DataType> = new Set(['FP16', 'FP32', 'FP64']);

/** The versions a comparison is between. */
export interface ShadowPair {
  champion: number;
  shadow: number;
}

/** What one output's comparisons add up to. */
export interface OutputComparison {
  /** Rows judged for agreement. */
  rows: number;
  agreeing_rows: number;
  /** Float elements whose difference was taken. */
  compared_values: number;
  sum_abs_diff: number;
  max_abs_diff: number;
  /** Pairs where exactly one side was NaN or they were different infinities (left out of the differences). */
  non_finite_mismatches: number;
  /** Comparisons where the shadow output was missing or had another datatype or shape. */
  structure_mismatches: number;
}

export interface OutputComparisonSnapshot {
  rows: number;
  agreeing_rows: number;
  agreement_rate: number | null;
  compared_values: number;
  max_abs_diff: number | null;
  mean_abs_diff: number | null;
  non_finite_mismatches: number;
  structure_mismatches: number;
}

export interface ShadowEndpointSnapshot {
  champion_version: number;
  shadow_version: number;
  /** When comparisons of this pair of versions started. */
  since: string;
  /** Requests whose shadow answer was compared. */
  count: number;
  shadow_errors: number;
  /**
   * Requests not mirrored: refused because the shadow already had its limit of requests waiting or
   * running or because the main thread was busy with callers, or dropped because they waited longer
   * than allowed for the champion to go idle.
   */
  skipped: number;
  /** The part of `skipped` dropped after waiting too long (the champion stayed busy). */
  skipped_expired: number;
  /** The part of `skipped` not mirrored because the main thread was busy with callers. */
  skipped_busy: number;
  /** Mirrored requests that had to wait at least once because the champion was busy with callers. */
  deferred: number;
  /** (count + shadow_errors) / (count + shadow_errors + skipped): the share of requests the shadow saw. */
  mirrored_share: number | null;
  /** shadow_errors / (count + shadow_errors). */
  error_rate: number | null;
  agreement_rate: number | null;
  max_abs_diff: number | null;
  mean_abs_diff: number | null;
  last_error: string | null;
  outputs: Record<string, OutputComparisonSnapshot>;
}

export type ShadowSnapshot = Record<string, ShadowEndpointSnapshot>;

function emptyComparison(): OutputComparison {
  return {
    rows: 0,
    agreeing_rows: 0,
    compared_values: 0,
    sum_abs_diff: 0,
    max_abs_diff: 0,
    non_finite_mismatches: 0,
    structure_mismatches: 0,
  };
}

function rowCount(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : (shape[0] ?? 0);
}

function floats(tensor: Tensor): ArrayLike<number> {
  if (tensor.datatype === 'FP16') return Array.from(tensor.data as Uint16Array, halfBitsToFloat);
  return tensor.data as Float32Array | Float64Array;
}

/** True when this output is judged for agreement (see the module comment). */
function hasAgreement(tensor: Tensor): boolean {
  if (!FLOAT_TYPES.has(tensor.datatype)) return true;
  return tensor.shape.length === 2 && (tensor.shape[1] ?? 0) >= 2;
}

function argmax(values: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  let bestValue = values[start] as number;
  for (let j = 1; j < length; j++) {
    const v = values[start + j] as number;
    if (v > bestValue || (Number.isNaN(bestValue) && !Number.isNaN(v))) {
      best = j;
      bestValue = v;
    }
  }
  return best;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Compare one output of the champion with the same output of the shadow (undefined: the shadow
 * did not return it), adding to `into`.
 */
export function compareOutput(
  champion: Tensor,
  shadow: Tensor | undefined,
  into: OutputComparison = emptyComparison(),
): OutputComparison {
  const agreement = hasAgreement(champion);
  if (
    shadow === undefined ||
    shadow.datatype !== champion.datatype ||
    !sameShape(shadow.shape, champion.shape)
  ) {
    into.structure_mismatches += 1;
    if (agreement) into.rows += rowCount(champion.shape); // a shape the caller could not use agrees with nothing
    return into;
  }
  const rows = rowCount(champion.shape);
  const count = elementCount(champion.shape);
  const rowSize = rows === 0 ? 0 : count / rows;

  if (FLOAT_TYPES.has(champion.datatype)) {
    const a = floats(champion);
    const b = floats(shadow);
    for (let i = 0; i < count; i++) {
      const x = a[i] as number;
      const y = b[i] as number;
      if (x === y || (Number.isNaN(x) && Number.isNaN(y))) {
        into.compared_values += 1;
        continue;
      }
      const diff = Math.abs(x - y);
      if (!Number.isFinite(diff)) {
        into.non_finite_mismatches += 1;
        continue;
      }
      into.compared_values += 1;
      into.sum_abs_diff += diff;
      if (diff > into.max_abs_diff) into.max_abs_diff = diff;
    }
    if (agreement) {
      for (let r = 0; r < rows; r++) {
        if (argmax(a, r * rowSize, rowSize) === argmax(b, r * rowSize, rowSize)) into.agreeing_rows += 1;
      }
      into.rows += rows;
    }
    return into;
  }

  const a = champion.data as ArrayLike<number | bigint | string>;
  const b = shadow.data as ArrayLike<number | bigint | string>;
  for (let r = 0; r < rows; r++) {
    let equal = true;
    for (let j = r * rowSize, end = j + rowSize; j < end && equal; j++) equal = a[j] === b[j];
    if (equal) into.agreeing_rows += 1;
  }
  into.rows += rows;
  return into;
}

/** Snake_case view of one output's comparisons. */
export function summarizeOutput(c: OutputComparison): OutputComparisonSnapshot {
  return {
    rows: c.rows,
    agreeing_rows: c.agreeing_rows,
    agreement_rate: c.rows === 0 ? null : c.agreeing_rows / c.rows,
    compared_values: c.compared_values,
    max_abs_diff: c.compared_values === 0 ? null : c.max_abs_diff,
    mean_abs_diff: c.compared_values === 0 ? null : c.sum_abs_diff / c.compared_values,
    non_finite_mismatches: c.non_finite_mismatches,
    structure_mismatches: c.structure_mismatches,
  };
}

interface EndpointState {
  pair: ShadowPair;
  since: string;
  count: number;
  errors: number;
  skipped: number;
  skippedExpired: number;
  skippedBusy: number;
  deferred: number;
  lastError: string | null;
  outputs: Map<string, OutputComparison>;
}

export interface ShadowComparisonsOptions {
  /** Clock for `since` (injected in tests). */
  now?: () => Date;
}

/**
 * Champion-versus-shadow comparisons per endpoint. Numbers always describe one pair of versions:
 * when the champion or the shadow version changes, that endpoint starts over.
 * @example comparisons.compare('digits', { champion: 3, shadow: 4 }, championOutputs, shadowOutputs)
 */
export class ShadowComparisons {
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly now: () => Date;

  constructor(options: ShadowComparisonsOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  private state(endpoint: string, pair: ShadowPair): EndpointState {
    const current = this.endpoints.get(endpoint);
    if (
      current !== undefined &&
      current.pair.champion === pair.champion &&
      current.pair.shadow === pair.shadow
    ) {
      return current;
    }
    const fresh: EndpointState = {
      pair: { champion: pair.champion, shadow: pair.shadow },
      since: this.now().toISOString(),
      count: 0,
      errors: 0,
      skipped: 0,
      skippedExpired: 0,
      skippedBusy: 0,
      deferred: 0,
      lastError: null,
      outputs: new Map(),
    };
    this.endpoints.set(endpoint, fresh);
    return fresh;
  }

  /** Add one request's outputs: every champion output is compared with the shadow's output of that name. */
  compare(endpoint: string, pair: ShadowPair, champion: readonly Tensor[], shadow: readonly Tensor[]): void {
    const state = this.state(endpoint, pair);
    const shadowByName = new Map(shadow.map((t) => [t.name, t]));
    for (const output of champion) {
      let acc = state.outputs.get(output.name);
      if (acc === undefined) {
        acc = emptyComparison();
        state.outputs.set(output.name, acc);
      }
      compareOutput(output, shadowByName.get(output.name), acc);
    }
    state.count += 1;
  }

  /** Count a shadow request that failed (its error never reaches the caller). */
  recordError(endpoint: string, pair: ShadowPair, error: unknown): void {
    const state = this.state(endpoint, pair);
    state.errors += 1;
    state.lastError = error instanceof Error ? error.message : String(error);
  }

  /**
   * Count a request not mirrored: the shadow was full (`full`), the request waited too long for
   * the champion to go idle (`expired`), or the main thread was busy with callers (`busy`).
   */
  recordSkipped(endpoint: string, pair: ShadowPair, why: 'full' | 'expired' | 'busy' = 'full'): void {
    const state = this.state(endpoint, pair);
    state.skipped += 1;
    if (why === 'expired') state.skippedExpired += 1;
    else if (why === 'busy') state.skippedBusy += 1;
  }

  /** Count a mirrored request held back (once per request) because the champion was busy. */
  recordDeferred(endpoint: string, pair: ShadowPair): void {
    this.state(endpoint, pair).deferred += 1;
  }

  /** Forget one endpoint's comparisons, or all. */
  reset(endpoint?: string): void {
    if (endpoint === undefined) this.endpoints.clear();
    else this.endpoints.delete(endpoint);
  }

  /** One endpoint's numbers, or undefined when nothing was compared. */
  endpoint(name: string): ShadowEndpointSnapshot | undefined {
    const state = this.endpoints.get(name);
    return state === undefined ? undefined : summarize(state);
  }

  /** Every endpoint's numbers, by endpoint name. */
  snapshot(): ShadowSnapshot {
    const out: ShadowSnapshot = {};
    for (const name of [...this.endpoints.keys()].sort())
      out[name] = summarize(this.endpoints.get(name) as EndpointState);
    return out;
  }
}

function summarize(state: EndpointState): ShadowEndpointSnapshot {
  const total = emptyComparison();
  const outputs: Record<string, OutputComparisonSnapshot> = {};
  for (const [name, c] of state.outputs) {
    outputs[name] = summarizeOutput(c);
    total.rows += c.rows;
    total.agreeing_rows += c.agreeing_rows;
    total.compared_values += c.compared_values;
    total.sum_abs_diff += c.sum_abs_diff;
    total.max_abs_diff = Math.max(total.max_abs_diff, c.max_abs_diff);
  }
  const all = summarizeOutput(total);
  const attempts = state.count + state.errors;
  const offered = attempts + state.skipped;
  return {
    champion_version: state.pair.champion,
    shadow_version: state.pair.shadow,
    since: state.since,
    count: state.count,
    shadow_errors: state.errors,
    skipped: state.skipped,
    skipped_expired: state.skippedExpired,
    skipped_busy: state.skippedBusy,
    deferred: state.deferred,
    mirrored_share: offered === 0 ? null : attempts / offered,
    error_rate: attempts === 0 ? null : state.errors / attempts,
    agreement_rate: all.agreement_rate,
    max_abs_diff: all.max_abs_diff,
    mean_abs_diff: all.mean_abs_diff,
    last_error: state.lastError,
    outputs,
  };
}
