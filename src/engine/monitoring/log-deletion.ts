/**
 * A deletion request on the prediction log as the frontends give it (HTTP body, CLI flags), turned into
 * the storage's selector: a date becomes a time, a feature name its column index (from the reference
 * data set's header), and the value of a feature the model logs hashed becomes its hash, so that the
 * caller names a person's rows by the value they know.
 */
import type { ModelConfig } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import { hashFeatureValue } from '../../monitor/feature-redaction.js';
import type { DeleteResult, DeleteSelector } from '../../monitor/prediction-log-delete.js';
import type { ServedVersion } from '../serving/served-version.js';

/** The most request ids one deletion may name. */
export const MAX_DELETE_IDS = 1_000_000;

/** A deletion as the frontends give it. */
export interface LogDeleteRequest {
  model: string;
  version?: number;
  /** Request ids: every row of each is deleted. */
  ids?: string[];
  /** A date or time (ISO 8601): rows logged before it are deleted. */
  before?: string;
  /** Rows whose feature (column index or reference column name) equals the value. */
  where?: { feature: number | string; value: number };
}

const FIELDS = ['model', 'version', 'ids', 'before', 'where'];

/**
 * Check an HTTP body: `{"model", "version"?, "ids"?: [...], "before"?: "2026-01-01", "where"?: {"feature", "value"}}`.
 * @throws TendError TEND_INVALID_ARGUMENT naming the field at fault.
 */
export function parseLogDeleteRequest(body: Record<string, unknown>): LogDeleteRequest {
  const unknown = Object.keys(body).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0)
    throw errors.invalidArgument(
      `unknown field(s) ${unknown.join(', ')}; the body is {"model", "version"?, "ids"?, "before"?, "where"?: {"feature", "value"}}`,
    );
  const { model, version, ids, before, where } = body;
  if (typeof model !== 'string' || model === '') throw errors.invalidArgument("'model' must be a model name");
  const request: LogDeleteRequest = { model };
  if (version !== undefined) {
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
      throw errors.invalidArgument("'version' must be a version number");
    request.version = version;
  }
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
      throw errors.invalidArgument("'ids' must be an array of request ids (strings)");
    request.ids = ids as string[];
  }
  if (before !== undefined) {
    if (typeof before !== 'string')
      throw errors.invalidArgument("'before' must be a date such as 2026-11-25");
    request.before = before;
  }
  if (where !== undefined) {
    const w = where as { feature?: unknown; value?: unknown } | null;
    if (
      w === null ||
      typeof w !== 'object' ||
      (typeof w.feature !== 'string' && typeof w.feature !== 'number') ||
      typeof w.value !== 'number'
    )
      throw errors.invalidArgument('\'where\' must be {"feature": name or column index, "value": number}');
    request.where = { feature: w.feature, value: w.value };
  }
  return request;
}

/**
 * Parse `FEATURE=VALUE` (the CLI's `--where`).
 * @example parseWhere('age=42') // { feature: 'age', value: 42 }; parseWhere('3=1.5') // { feature: 3, value: 1.5 }
 */
export function parseWhere(text: string): { feature: number | string; value: number } {
  const at = text.lastIndexOf('=');
  const name = at < 0 ? '' : text.slice(0, at).trim();
  const value = at < 0 ? Number.NaN : Number(text.slice(at + 1).trim());
  if (name === '' || text.slice(at + 1).trim() === '' || !Number.isFinite(value))
    throw errors.invalidArgument(
      `--where '${text}' must be FEATURE=NUMBER (a column name or index, e.g. age=42)`,
    );
  return { feature: /^[0-9]+$/.test(name) ? Number(name) : name, value };
}

export interface DeletionContext {
  /** A served version of the model (for its reference); rejects when the model is not served. */
  version: () => Promise<ServedVersion>;
  /** The model's config (its redaction rules), without loading it. */
  config: () => ModelConfig;
  /** The feature names of a version (its reference data set's header), or null. */
  featureNames: (sv: ServedVersion) => Promise<readonly string[] | null>;
  /** The salt of `hash` rules. */
  salt: () => Buffer;
}

/** The storage selector of a request; the version is looked up only when a feature needs it. */
export async function deletionSelector(
  request: LogDeleteRequest,
  context: DeletionContext,
): Promise<DeleteSelector> {
  const selector: DeleteSelector = { model: request.model };
  if (request.version !== undefined) selector.version = request.version;
  if (request.ids !== undefined) {
    if (request.ids.length > MAX_DELETE_IDS)
      throw errors.invalidArgument(
        `at most ${MAX_DELETE_IDS} request ids per deletion, got ${request.ids.length}`,
      );
    selector.requestIds = [...new Set(request.ids)];
  }
  if (request.before !== undefined) {
    const ms = Date.parse(request.before);
    if (Number.isNaN(ms))
      throw errors.invalidArgument(
        `'${request.before}' is not a date (e.g. 2026-11-25 or 2026-11-25T10:00:00Z)`,
      );
    selector.beforeMs = ms;
  }
  if (request.where !== undefined) {
    const { feature, value } = request.where;
    let index: number;
    if (typeof feature === 'number') {
      if (!Number.isSafeInteger(feature) || feature < 0)
        throw errors.invalidArgument(`feature ${feature} must be a column index ≥ 0 or a column name`);
      index = feature;
    } else {
      const sv = await context.version();
      const names = await context.featureNames(sv);
      index = names?.indexOf(feature) ?? -1;
      if (index < 0)
        throw errors.invalidArgument(
          names === null
            ? `feature '${feature}': model '${request.model}' has no reference data set to name its columns — give the column index`
            : `feature '${feature}' is not a column of the reference data set of '${request.model}' (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''})`,
        );
    }
    const hashRules = (context.config().monitoring?.redact ?? []).filter((r) => r.action === 'hash');
    let hashed = hashRules.some((r) => r.feature === feature || r.feature === index);
    if (!hashed && typeof feature === 'number' && hashRules.some((r) => typeof r.feature === 'string')) {
      // A rule names the column the caller gave by index: the reference header tells whether it is this one.
      const names = await context
        .version()
        .then((sv) => context.featureNames(sv))
        .catch(() => null);
      hashed = hashRules.some((r) => names?.indexOf(String(r.feature)) === index);
    }
    selector.where = {
      feature: index,
      value: hashed ? hashFeatureValue(context.salt(), value) : value,
    };
  }
  return selector;
}

/** The audit log's detail of a deletion: what was selected and what went. */
export function describeDeletion(request: LogDeleteRequest, result: DeleteResult): string {
  const what = [
    request.version === undefined ? undefined : `version ${request.version}`,
    request.ids === undefined ? undefined : `${request.ids.length} request id(s)`,
    request.before === undefined ? undefined : `before ${request.before}`,
    request.where === undefined ? undefined : `where ${request.where.feature}=<value>`,
  ].filter((s) => s !== undefined);
  return `deleted ${result.deleted} row(s) (${result.with_feedback} with feedback) selected by ${what.join(', ')}`;
}
