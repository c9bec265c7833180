/**
 * A model's rows as one snapshot, and the insert of such a snapshot under a new name: the database
 * side of model archives (export and import), with the version numbering a model continues when it
 * takes the name of a deleted one.
 */
import type { Transaction } from 'kysely';
import { errors, FIX_IN_MESSAGE } from '../core/errors.js';
import type { ModelImport, ModelSnapshot } from './lifecycle-store.js';
import { assertAliasName, assertModelName, assertTags, assertVersionNumber } from './names.js';
import type { RegistryDatabase } from './schema.js';
import type { AliasMove, ModelRecord } from './store.js';
import { now, toVersionRecord } from './version-rows.js';

/** Reads a model's record inside the transaction (the owning store's reader). */
type ReadModel = (trx: Transaction<RegistryDatabase>, name: string) => Promise<ModelRecord>;

/** A model created under the name of a deleted one continues its version numbers. */
export async function continueRetiredNumbers(
  trx: Transaction<RegistryDatabase>,
  name: string,
): Promise<void> {
  const retired = await trx
    .selectFrom('retired_models')
    .select('next_version')
    .where('name', '=', name)
    .executeTakeFirst();
  if (retired === undefined) return;
  await trx
    .updateTable('models')
    .set((eb) => ({
      next_version: eb
        .case()
        .when('next_version', '<', Number(retired.next_version))
        .then(Number(retired.next_version))
        .else(eb.ref('next_version'))
        .end(),
    }))
    .where('name', '=', name)
    .execute();
  await trx.deleteFrom('retired_models').where('name', '=', name).execute();
}

function toAliasMove(r: {
  alias: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  at: string;
}): AliasMove {
  return {
    alias: r.alias,
    from_version: r.from_version === null ? null : Number(r.from_version),
    to_version: r.to_version === null ? null : Number(r.to_version),
    actor: r.actor,
    at: r.at,
  };
}

/** Throws an invalid-argument error naming the first thing wrong with an import, before any write. */
export function assertModelImport(input: ModelImport): void {
  assertModelName(input.name);
  assertTags(input.tags);
  const numbers = new Set<number>();
  for (const v of input.versions) {
    assertVersionNumber(v.version);
    if (numbers.has(v.version)) throw errors.invalidArgument(`version ${v.version} appears twice`);
    numbers.add(v.version);
    assertTags(v.tags);
  }
  for (const [alias, version] of Object.entries(input.aliases)) {
    assertAliasName(alias);
    const target = input.versions.find((v) => v.version === version);
    if (target === undefined)
      throw errors.invalidArgument(`alias '${alias}' points at version ${version}, which is not imported`);
    if (target.archived_at !== null)
      throw errors.invalidArgument(`alias '${alias}' points at archived version ${version}`);
  }
  for (const a of input.artifacts ?? []) {
    if (!numbers.has(a.version))
      throw errors.invalidArgument(
        `a '${a.kind}' artifact belongs to version ${a.version}, which is not imported`,
      );
  }
  if (!Number.isSafeInteger(input.next_version) || input.next_version < 1) {
    throw errors.invalidArgument(
      `next_version must be a positive integer, not ${String(input.next_version)}`,
    );
  }
}

/** A model with all its versions, aliases and alias history, read inside `trx`. */
export async function readModelSnapshot(
  trx: Transaction<RegistryDatabase>,
  name: string,
  readModel: ReadModel,
): Promise<ModelSnapshot> {
  const model = await readModel(trx, name);
  const row = await trx
    .selectFrom('models')
    .select('next_version')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  const versionRows = await trx
    .selectFrom('model_versions')
    .selectAll()
    .where('model_name', '=', name)
    .orderBy('version')
    .execute();
  const history = await trx
    .selectFrom('alias_history')
    .select(['alias', 'from_version', 'to_version', 'actor', 'at'])
    .where('model_name', '=', name)
    .orderBy('alias')
    .orderBy('seq')
    .execute();
  const byVersion = new Map<number, string[]>();
  for (const [alias, version] of Object.entries(model.aliases))
    byVersion.set(version, [...(byVersion.get(version) ?? []), alias]);
  return {
    name,
    description: model.description,
    tags: model.tags,
    created_at: model.created_at,
    next_version: Number(row.next_version),
    versions: versionRows.map((v) => toVersionRecord(v, (byVersion.get(Number(v.version)) ?? []).sort())),
    aliases: model.aliases,
    alias_history: history.map(toAliasMove),
  };
}

/** Insert a checked import (see assertModelImport) as a new model; a conflict if the name is taken. */
export async function insertModelImport(
  trx: Transaction<RegistryDatabase>,
  input: ModelImport,
  readModel: ReadModel,
): Promise<ModelRecord> {
  const { name } = input;
  const at = now();
  const maxVersion = Math.max(0, ...input.versions.map((v) => v.version));
  const created = await trx
    .insertInto('models')
    .values({
      name,
      description: input.description,
      tags: JSON.stringify(input.tags),
      next_version: Math.max(input.next_version, maxVersion + 1),
      created_at: input.created_at,
      updated_at: at,
    })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  if (Number(created.numInsertedOrUpdatedRows ?? 0) === 0) {
    throw errors.conflict(
      `model '${name}' already exists; import it under another name (--as NAME)`,
      FIX_IN_MESSAGE,
    );
  }
  await continueRetiredNumbers(trx, name);
  for (const v of input.versions) {
    await trx
      .insertInto('model_versions')
      .values({
        model_name: name,
        version: v.version,
        sha256: v.sha256,
        size_bytes: v.size_bytes,
        signature: JSON.stringify(v.signature),
        model_info: JSON.stringify(v.model_info),
        source: v.source,
        created_at: v.created_at,
        created_by: v.created_by,
        metrics: JSON.stringify(v.metrics),
        tags: JSON.stringify(v.tags),
        parent_version: v.parent_version,
        run_id: v.run_id,
        status: v.archived_at === null ? 'ready' : 'archived',
        archived_at: v.archived_at,
        archived_by: v.archived_at === null ? null : (v.archived_by ?? input.actor),
      })
      .execute();
  }
  const seqs = new Map<string, number>();
  const lastMove = new Map<string, AliasMove>();
  for (const move of input.alias_history) {
    const seq = (seqs.get(move.alias) ?? 0) + 1;
    seqs.set(move.alias, seq);
    lastMove.set(move.alias, move);
    await trx
      .insertInto('alias_history')
      .values({
        model_name: name,
        alias: move.alias,
        seq,
        from_version: move.from_version,
        to_version: move.to_version,
        actor: move.actor,
        at: move.at,
      })
      .execute();
  }
  for (const [alias, version] of Object.entries(input.aliases)) {
    const last = lastMove.get(alias);
    const fromHistory = last?.to_version === version;
    await trx
      .insertInto('model_aliases')
      .values({
        model_name: name,
        alias,
        version,
        updated_at: fromHistory ? last.at : at,
        updated_by: fromHistory ? last.actor : input.actor,
      })
      .execute();
  }
  for (const a of input.artifacts ?? []) {
    await trx
      .insertInto('version_artifacts')
      .values({
        model_name: name,
        version: a.version,
        kind: a.kind,
        sha256: a.sha256,
        size_bytes: a.size_bytes,
        media_type: a.media_type,
        meta: JSON.stringify(a.meta),
        created_at: a.created_at,
        created_by: a.created_by,
      })
      .execute();
  }
  for (const r of input.runs ?? []) {
    // Run ids are unique across the registry: importing a copy beside its original (--as) keeps the
    // original's run, which the copy's versions then name too.
    await trx
      .insertInto('training_runs')
      .values({
        run_id: r.run_id,
        model_name: name,
        kind: r.kind,
        status: r.status,
        parameters: JSON.stringify(r.parameters),
        epochs: JSON.stringify(r.epochs),
        metrics: JSON.stringify(r.metrics),
        dataset_sha256: r.dataset_sha256,
        dataset_rows: r.dataset_rows,
        dataset_source: r.dataset_source,
        parent_version: r.parent_version,
        produced_version: r.produced_version,
        code_version: r.code_version,
        error: r.error,
        started_at: r.started_at,
        finished_at: r.finished_at,
        duration_ms: r.duration_ms,
        created_by: r.created_by,
      })
      .onConflict((oc) => oc.column('run_id').doNothing())
      .execute();
  }
  return readModel(trx, name);
}
