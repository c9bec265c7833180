/** Rows of the registry tables to records, shared by the Kysely stores. */
import type { Selectable } from 'kysely';
import type { ModelVersionsTable } from './schema.js';
import type { VersionRecord, VersionStatus } from './store.js';

/** Timestamps are ISO-8601 UTC strings (portable, sortable). */
export const now = (): string => new Date().toISOString();

export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** A model_versions row with the aliases that point at it. */
export function toVersionRecord(row: Selectable<ModelVersionsTable>, aliases: string[]): VersionRecord {
  return {
    name: row.model_name,
    version: Number(row.version),
    sha256: row.sha256,
    size_bytes: Number(row.size_bytes),
    signature: parseJson(row.signature),
    model_info: parseJson(row.model_info),
    source: row.source,
    created_at: row.created_at,
    created_by: row.created_by,
    metrics: parseJson(row.metrics),
    tags: parseJson(row.tags),
    parent_version: row.parent_version === null ? null : Number(row.parent_version),
    run_id: row.run_id,
    status: row.status as VersionStatus,
    archived: row.status === 'archived',
    archived_at: row.archived_at ?? null,
    archived_by: row.archived_by ?? null,
    aliases,
  };
}
