/**
 * The records of models, versions and alias moves as the metadata store keeps them (snake_case
 * JSON: they leave the process unchanged). Apart from store.ts so that the partial store interfaces
 * (lifecycle-store.ts) can name them without importing the whole store.
 */
import type { ModelSignature } from '../core/signature.js';
import type { ModelInfo } from '../onnx/index.js';

/** What the registry keeps of a model's ONNX header besides its signature. */
export type StoredModelInfo = Omit<ModelInfo, 'signature'>;

/** `ready`, or `archived`: kept (file, metadata, lineage) but not served, and skipped by 'latest'. */
export type VersionStatus = 'ready' | 'archived';

export interface ModelRecord {
  name: string;
  description: string;
  tags: Record<string, string>;
  created_at: string;
  updated_at: string;
  /** The version 'latest' resolves to: the highest one not archived; null when there is none. */
  latest_version: number | null;
  /** Every version, archived ones included. */
  version_count: number;
  /** Alias name → version. */
  aliases: Record<string, number>;
}

export interface VersionRecord {
  name: string;
  version: number;
  sha256: string;
  size_bytes: number;
  signature: ModelSignature;
  model_info: StoredModelInfo;
  /** Where the version came from: a file path, `train:<run>`, ... */
  source: string;
  created_at: string;
  created_by: string;
  metrics: Record<string, unknown>;
  tags: Record<string, string>;
  /** The version of the same model this one was derived from (lineage). */
  parent_version: number | null;
  run_id: string | null;
  status: VersionStatus;
  /** True when archived: listed and resolvable by number, but not to be served. */
  archived: boolean;
  archived_at: string | null;
  archived_by: string | null;
  /** Aliases that point at this version, sorted. */
  aliases: string[];
}

/** One move of an alias; `to_version` null is a removal, `from_version` null a creation. */
export interface AliasMove {
  alias: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  at: string;
}
