/**
 * Reference data sets of model versions, for drift: a CSV attached to a registry version (kind
 * `reference`), or `reference.csv` beside a repository version's model.onnx. A version without one
 * uses the newest earlier version's. Parsed tables are cached by content hash.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errors } from '../../core/errors.js';
import { parseReferenceCsv } from '../../monitor/reference-table.js';
import type { Registry } from '../../registry/index.js';
import type { CellValue, Columns } from '../../monitor/drift-columns.js';
import { outputPlan } from './prediction-capture.js';
import { inferMaxBatchSize } from './served-version.js';

export const REFERENCE_KIND = 'reference';
export const REFERENCE_FILE = 'reference.csv';
const CACHE_LIMIT = 32;

/** A version's reference data set, split into features and (when it has one) the target. */
export interface ReferenceData {
  /** The version the reference is attached to (an earlier one when this version has none). */
  version: number;
  source: string;
  rows: number;
  /** Feature names, in the order of the model's input columns. */
  featureNames: string[];
  features: Columns;
  /** The target column's name and values, when the reference has one more column than the model takes. */
  target: { name: string; values: CellValue[] } | null;
}

/**
 * Split a parsed reference into the model's features and an optional target: as many columns as
 * the model takes features, or one more, the last being the target (as the data sets have it).
 */
export function referenceFromCsv(
  text: string,
  source: string,
  featureCount: number | undefined,
  version: number,
): ReferenceData {
  if (featureCount === undefined) {
    throw errors.invalidArgument(
      `${source}: the model does not take one tabular [batch, features] input, so a reference table cannot describe its inputs`,
    );
  }
  const table = parseReferenceCsv(text, source);
  const n = table.columns.length;
  if (n !== featureCount && n !== featureCount + 1) {
    throw errors.invalidArgument(
      `${source}: ${n} columns, but the model takes ${featureCount} features: give one column per feature, in input order, optionally followed by the target column`,
    );
  }
  const featureNames = table.columns.slice(0, featureCount);
  const features = Object.fromEntries(featureNames.map((name) => [name, table.values[name] ?? []]));
  const targetName = n > featureCount ? (table.columns[featureCount] as string) : null;
  return {
    version,
    source,
    rows: table.rows,
    featureNames,
    features,
    target: targetName === null ? null : { name: targetName, values: [...(table.values[targetName] ?? [])] },
  };
}

export class ReferenceStore {
  private readonly parsed = new Map<string, ReferenceData>();

  constructor(private readonly registry: Registry) {}

  /** The reference of a registry version (or the newest earlier version that has one), or null. */
  async forRegistryVersion(
    name: string,
    version: number,
    featureCount: number | undefined,
  ): Promise<ReferenceData | null> {
    const artifacts = (await this.registry.artifacts.list(name)).filter(
      (a) => a.kind === REFERENCE_KIND && a.version <= version,
    );
    const best = artifacts.sort((a, b) => b.version - a.version)[0];
    if (!best) return null;
    const key = `${best.sha256}:${featureCount ?? ''}:${best.version}`;
    const hit = this.parsed.get(key);
    if (hit) return hit;
    const found = await this.registry.artifacts.read(name, best.version, REFERENCE_KIND);
    if (!found) return null;
    const data = referenceFromCsv(
      found.bytes.toString('utf8'),
      `reference of ${name} version ${best.version}`,
      featureCount,
      best.version,
    );
    this.remember(key, data);
    return data;
  }

  /** The reference beside a repository version's model file, or null. */
  forRepositoryVersion(
    modelPath: string,
    version: number,
    featureCount: number | undefined,
  ): ReferenceData | null {
    const file = join(dirname(modelPath), REFERENCE_FILE);
    if (!existsSync(file)) return null;
    const text = readFileSync(file, 'utf8');
    const key = `${file}:${text.length}:${featureCount ?? ''}`;
    const hit = this.parsed.get(key);
    if (hit) return hit;
    const data = referenceFromCsv(text, file, featureCount, version);
    this.remember(key, data);
    return data;
  }

  private remember(key: string, data: ReferenceData): void {
    if (this.parsed.size >= CACHE_LIMIT) this.parsed.delete(this.parsed.keys().next().value as string);
    this.parsed.set(key, data);
  }
}

/**
 * Attach a reference data set (CSV text) to a registry version after checking it fits the model:
 * one column per feature of its tabular input, optionally followed by the target column.
 * @throws TendError 404 codes, TEND_INVALID_ARGUMENT (not tabular, wrong width, bad CSV)
 */
export async function attachReference(
  registry: Registry,
  name: string,
  versionRef: string | undefined,
  csv: string,
  source: string,
  actor?: string,
): Promise<{
  name: string;
  version: number;
  rows: number;
  features: number;
  target: string | null;
  sha256: string;
}> {
  const record = await registry.models.resolveVersion(name, versionRef ?? 'latest');
  const plan = outputPlan(record.signature, inferMaxBatchSize(record.signature, {}));
  const spec = record.signature.inputs.find((s) => s.name === plan.tabularInput);
  const last = spec?.shape?.[spec.shape.length - 1];
  const data = referenceFromCsv(csv, source, typeof last === 'number' ? last : undefined, record.version);
  const artifact = await registry.artifacts.attach(
    record.name,
    record.version,
    REFERENCE_KIND,
    new TextEncoder().encode(csv),
    {
      mediaType: 'text/csv',
      meta: {
        rows: data.rows,
        features: data.featureNames.length,
        target: data.target?.name ?? null,
        source,
      },
      ...(actor !== undefined ? { actor } : {}),
    },
  );
  return {
    name: record.name,
    version: record.version,
    rows: data.rows,
    features: data.featureNames.length,
    target: data.target?.name ?? null,
    sha256: artifact.sha256,
  };
}
