/**
 * The `monitoring.redact` rules of each served version, resolved once per loaded version: feature names
 * are looked up in the version's reference data set (its header), which is read asynchronously; until
 * the names are known, and for good when one is not, the version's rows are logged without their
 * features (redaction fails closed). The `hash` salt is read (or created) once, at the first hash rule.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { RedactRule } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import {
  redactFeatures,
  resolveRedaction,
  WITHHELD,
  type RedactedFeatures,
  type RedactionPlan,
} from '../../monitor/feature-redaction.js';
import type { FeatureSummary } from '../../monitor/prediction-log-types.js';
import type { ServedVersion } from '../serving/served-version.js';

/** The default salt file of `hash` rules, in the tend home. */
export const HASH_SALT_FILE = 'monitor-hash.salt';
const MIN_SALT_BYTES = 16;

/**
 * The salt of `hash` rules: the configured file, else the home's salt file, created with 32 random
 * bytes (mode 0600) when missing.
 * @throws TendError TEND_INVALID_CONFIG when the file is unreadable or shorter than 16 bytes.
 */
export function loadHashSalt(home: string, configured: string | undefined): Buffer {
  const path = configured ?? join(home, HASH_SALT_FILE);
  if (configured === undefined && !existsSync(path)) {
    try {
      writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw errors.invalidConfig(`cannot create the hash salt ${path}: ${(err as Error).message}`);
    }
  }
  let salt: Buffer;
  try {
    salt = readFileSync(path);
  } catch (err) {
    throw errors.invalidConfig(`monitoring.hash_salt_file ${path}: ${(err as Error).message}`);
  }
  if (salt.length < MIN_SALT_BYTES)
    throw errors.invalidConfig(
      `monitoring.hash_salt_file ${path} holds ${salt.length} bytes; a salt needs at least ${MIN_SALT_BYTES}`,
    );
  return salt;
}

export interface LogRedactionOptions {
  /** The feature names of a version (its reference data set's header), or null when it has none. */
  featureNames: (sv: ServedVersion) => Promise<readonly string[] | null>;
  /** The salt of `hash` rules (called once, at the first version with one). */
  salt: () => Buffer;
  logger: Logger;
}

type Resolved = { plan: RedactionPlan } | { withhold: string } | 'pending';

/** Per loaded version: the redaction plan of its rows. */
export class LogRedaction {
  private readonly plans = new WeakMap<ServedVersion, Resolved>();
  /** Name look-ups under way, so that ready() waits for the one apply() started. */
  private readonly lookups = new WeakMap<ServedVersion, Promise<void>>();
  private salt: Buffer | undefined;

  constructor(private readonly options: LogRedactionOptions) {}

  /** What to log of one captured row of `sv` (synchronous: called on the request path). */
  apply(
    sv: ServedVersion,
    features: Float32Array | null,
    featureSummary: FeatureSummary | null,
  ): RedactedFeatures {
    const rules = sv.config.monitoring?.redact;
    if (rules === undefined || rules.length === 0) return { features, featureSummary };
    const resolved = this.resolve(sv, rules);
    if (resolved === 'pending' || 'withhold' in resolved) {
      features?.fill(0);
      return WITHHELD;
    }
    return redactFeatures(resolved.plan, features, featureSummary);
  }

  /** Resolve a version's rules now (tests, and callers that want the first rows logged with features). */
  async ready(sv: ServedVersion): Promise<void> {
    const rules = sv.config.monitoring?.redact;
    if (rules === undefined || rules.length === 0) return;
    if (this.resolve(sv, rules) === 'pending') await this.lookups.get(sv);
  }

  private resolve(sv: ServedVersion, rules: readonly RedactRule[]): Resolved {
    const known = this.plans.get(sv);
    if (known !== undefined) return known;
    if (rules.every((r) => typeof r.feature === 'number')) {
      const resolved = this.compile(sv, rules, null);
      this.plans.set(sv, resolved);
      return resolved;
    }
    this.plans.set(sv, 'pending');
    this.lookups.set(sv, this.resolveNames(sv, rules));
    return 'pending';
  }

  private async resolveNames(sv: ServedVersion, rules: readonly RedactRule[]): Promise<void> {
    let names: readonly string[] | null = null;
    try {
      names = await this.options.featureNames(sv);
    } catch (err) {
      this.options.logger.warn(
        { model: sv.model, version: sv.version, err: (err as Error).message },
        'redaction: the reference data set is unusable; features of this version are not logged',
      );
    }
    this.plans.set(sv, this.compile(sv, rules, names));
  }

  private compile(
    sv: ServedVersion,
    rules: readonly RedactRule[],
    names: readonly string[] | null,
  ): Resolved {
    let salt: Buffer | undefined;
    if (rules.some((r) => r.action === 'hash')) {
      try {
        salt = this.salt ??= this.options.salt();
      } catch (err) {
        return this.withhold(sv, (err as Error).message);
      }
    }
    const result = resolveRedaction(rules, names, salt);
    if ('plan' in result) return result;
    return this.withhold(
      sv,
      `monitoring.redact names feature(s) ${result.unknown.join(', ')} that ${names === null ? 'no reference data set names (attach one with `tend monitor reference set`, or give column indices)' : "the reference data set's header does not hold"}`,
    );
  }

  private withhold(sv: ServedVersion, why: string): Resolved {
    this.options.logger.warn(
      { model: sv.model, version: sv.version, err: why },
      'redaction cannot be applied; features of this version are not logged',
    );
    return { withhold: why };
  }
}
