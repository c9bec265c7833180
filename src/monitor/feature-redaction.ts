/**
 * Redaction of a logged row's features (privacy), applied before the row is queued for the writer
 * thread, so that a redacted value never reaches monitor.db, its WAL, or a message to the writer:
 *   - drop:    the value is replaced by NaN (read back as missing);
 *   - hash:    the value is replaced by its salted hash (hashFeatureValue), equal values giving equal
 *              hashes, so rows can still be joined on the feature by whoever holds the salt;
 *   - summary: the row's features are not stored at all, only their summary (FeatureSummary) over the
 *              features that are neither dropped nor hashed.
 * A plan that cannot be resolved (a feature name not yet, or never, known) withholds the whole row:
 * redaction fails closed.
 */
import { createHmac } from 'node:crypto';
import type { FeatureSummary } from './prediction-log-types.js';

export type RedactAction = 'drop' | 'summary' | 'hash';

/** Redaction rules with every feature resolved to its column index. */
export interface RedactionPlan {
  /** Column index → action. */
  actions: ReadonlyMap<number, RedactAction>;
  /** The salt of `hash` (required when any action is `hash`). */
  salt?: Buffer;
}

/** What is logged of a row's features. */
export interface RedactedFeatures {
  features: Float32Array | null;
  featureSummary: FeatureSummary | null;
}

/** Features and summary both withheld: the row is logged without its inputs. */
export const WITHHELD: RedactedFeatures = Object.freeze({ features: null, featureSummary: null });

/** Largest integer a float32 holds exactly (2^24): hashes are below it, so they survive the float32 log. */
const HASH_RANGE = 1 << 24;

/**
 * The salted hash a `hash` rule logs for `value`: HMAC-SHA256 keyed by the salt over the value's
 * 4 float32 bytes (little-endian), its first 3 bytes read as a big-endian integer (0 … 16 777 215).
 * @example hashFeatureValue(salt, 42) === hashFeatureValue(salt, 42.0000001) // both round to one float32
 */
export function hashFeatureValue(salt: Buffer, value: number): number {
  const bytes = Buffer.alloc(4);
  // -0 and 0 are one value; every NaN hashes alike.
  bytes.writeFloatLE(value === 0 ? 0 : value);
  const digest = createHmac('sha256', salt).update(bytes).digest();
  return digest.readUIntBE(0, 3) % HASH_RANGE;
}

/** Mean, std, min and max of the finite-or-infinite values of `values` at the kept columns (NaN skipped). */
function summarize(values: Float32Array, skip: ReadonlyMap<number, RedactAction>): FeatureSummary {
  let count = 0;
  let sum = 0;
  let sumSq = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const action = skip.get(i);
    if (action === 'drop' || action === 'hash') continue;
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    count += 1;
    sum += v;
    sumSq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = count > 0 ? sum / count : 0;
  return {
    mean,
    std: count > 0 ? Math.sqrt(Math.max(0, sumSq / count - mean * mean)) : 0,
    min: count > 0 ? min : 0,
    max: count > 0 ? max : 0,
    count,
  };
}

/**
 * Apply a plan to one row's features. `features` is the capture's own copy: it is changed in place
 * (`drop`, `hash`) or wiped and left out (`summary`). A row without per-feature values keeps its summary
 * only when no rule names a feature (a rule's feature could be anywhere in it).
 */
export function redactFeatures(
  plan: RedactionPlan,
  features: Float32Array | null,
  featureSummary: FeatureSummary | null,
): RedactedFeatures {
  if (plan.actions.size === 0) return { features, featureSummary };
  if (features === null) return WITHHELD;
  let summaryOnly = false;
  for (const [index, action] of plan.actions) {
    if (index >= features.length) continue;
    if (action === 'drop') features[index] = Number.NaN;
    else if (action === 'hash') {
      if (plan.salt === undefined) {
        features.fill(0);
        return WITHHELD;
      }
      features[index] = hashFeatureValue(plan.salt, features[index] as number);
    } else summaryOnly = true;
  }
  if (!summaryOnly) return { features, featureSummary };
  const summary = summarize(features, plan.actions);
  features.fill(0);
  return { features: null, featureSummary: summary };
}

/**
 * Resolve rules to column indices: a number is an index, a string a name of `featureNames`.
 * @returns the plan, or the names that are unknown (the caller withholds the rows and says why).
 */
export function resolveRedaction(
  rules: readonly { feature: number | string; action: RedactAction }[],
  featureNames: readonly string[] | null,
  salt: Buffer | undefined,
): { plan: RedactionPlan } | { unknown: string[] } {
  const actions = new Map<number, RedactAction>();
  const unknown: string[] = [];
  for (const rule of rules) {
    const index =
      typeof rule.feature === 'number' ? rule.feature : (featureNames?.indexOf(rule.feature) ?? -1);
    if (index < 0) {
      unknown.push(String(rule.feature));
      continue;
    }
    // Two rules on one feature: the stricter wins (summary > drop > hash).
    const before = actions.get(index);
    if (before === undefined || rank(rule.action) > rank(before)) actions.set(index, rule.action);
  }
  if (unknown.length > 0) return { unknown };
  return { plan: salt === undefined ? { actions } : { actions, salt } };
}

function rank(action: RedactAction): number {
  return action === 'summary' ? 3 : action === 'drop' ? 2 : 1;
}
