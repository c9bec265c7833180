/**
 * `registry.models`: models, their versions and aliases — push, list, resolve, move aliases,
 * archive and delete. Changes are audited (audit-trail.ts); reads go straight to the stores.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { errors, isTendError } from '../core/errors.js';
import type { inspectModelFile } from '../onnx/index.js';
import { hashFile, type FileDigest } from './blob-store.js';
import { PUSH_LEASE_MS } from './blob-gc.js';
import type { AuditEntry } from './audit-store.js';
import type { AuditTrail } from './audit-trail.js';
import {
  assertAliasName,
  assertModelName,
  assertTags,
  assertVersionNumber,
  parseVersionRef,
} from './names.js';
import type { RegistryStores } from './registry-stores.js';
import type { SealedBlobs } from './sealed-blobs.js';
import type { AliasChange, AliasMove, ModelRecord, ModelUpdate, VersionRecord } from './store.js';

export interface PushOptions {
  name: string;
  /** Aliases moved to the new version. */
  aliases?: string[];
  /** Version tags. */
  tags?: Record<string, string>;
  /** Sets the model's description. */
  description?: string;
  createdBy?: string;
  /** Where the file came from (default: its absolute path), e.g. `train:<run>`. */
  source?: string;
  /** The version of the same model this one derives from. */
  parentVersion?: number;
  runId?: string;
  metrics?: Record<string, unknown>;
}

export interface PushResult {
  name: string;
  version: number;
  sha256: string;
  size_bytes: number;
}

function assertMetrics(metrics: Record<string, unknown>): void {
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
    throw errors.invalidArgument('metrics must be a JSON object');
  }
  try {
    JSON.stringify(metrics);
  } catch (err) {
    throw errors.invalidArgument(`metrics cannot be stored as JSON: ${(err as Error).message}`);
  }
}

function assertNonEmpty(what: string, value: string | undefined): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw errors.invalidArgument(`${what} must be a non-empty string`);
  }
}

/** Models, versions and aliases of the registry. */
export class RegistryModels {
  constructor(
    private readonly stores: Pick<RegistryStores, 'models' | 'lifecycle'>,
    private readonly sealed: SealedBlobs,
    private readonly inspect: typeof inspectModelFile,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Add an ONNX file as the next version of a model (creating the model on its first push).
   * The file is checked before anything is written; its bytes are stored before the version row,
   * so a row never points at a missing file; a blob lease keeps gc() off the file meanwhile. The
   * version row, every alias move and the 'ok' audit entry commit in one transaction: a push
   * killed at any moment leaves either all of them or none.
   * @throws TendError TEND_INVALID_MODEL (not ONNX, external data), TEND_INVALID_ARGUMENT (bad name,
   * alias, tags, unreadable file), TEND_VERSION_NOT_FOUND (unknown parentVersion).
   * @example await registry.models.push('model.onnx', { name: 'digits', aliases: ['champion'] })
   */
  async push(file: string, options: PushOptions): Promise<PushResult> {
    const subject = this.trail.subject('model.push', options.name);
    // The 'ok' entry commits in the version's own transaction (with its alias moves), never apart from it.
    const audit = (created: VersionRecord): AuditEntry => ({
      ...subject,
      outcome: 'ok',
      after: { version: created.version, sha256: created.sha256, aliases: options.aliases ?? [] },
    });
    try {
      return await this.pushFile(file, options, audit);
    } catch (err) {
      await this.trail.failed(subject, err);
      throw err;
    }
  }

  private async pushFile(
    file: string,
    options: PushOptions,
    audit: (created: VersionRecord) => AuditEntry,
  ): Promise<PushResult> {
    const { name } = options;
    assertModelName(name);
    const aliases = options.aliases ?? [];
    for (const alias of aliases) assertAliasName(alias);
    const tags = options.tags ?? {};
    assertTags(tags);
    const metrics = options.metrics ?? {};
    assertMetrics(metrics);
    if (options.parentVersion !== undefined) assertVersionNumber(options.parentVersion);
    assertNonEmpty('source', options.source);
    assertNonEmpty('createdBy', options.createdBy);
    assertNonEmpty('runId', options.runId);

    const path = resolve(file);
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch (err) {
      throw errors.invalidArgument(`cannot read model file ${path}: ${(err as Error).message}`);
    }
    if (!isFile) throw errors.invalidArgument(`${path} is not a file`);

    let info: ReturnType<typeof inspectModelFile>;
    try {
      info = this.inspect(path);
    } catch (err) {
      if (isTendError(err) && err.code === 'TEND_INVALID_MODEL') throw err;
      throw errors.invalidModel(`${path} is not a valid ONNX model: ${(err as Error).message}`, err);
    }
    if (info.external_data.length > 0) {
      throw errors.invalidModel(
        `${path} keeps tensors in external data files; external data is not supported by push yet; serve the folder with --repo`,
      );
    }
    if (options.parentVersion !== undefined) await this.requireParent(name, options.parentVersion);

    let digest: FileDigest;
    try {
      digest = await hashFile(path);
    } catch (err) {
      throw errors.invalidArgument(`cannot read model file ${path}: ${(err as Error).message}`);
    }
    // The lease keeps a garbage collection from removing the file before its row exists (blob-gc.ts).
    const lease = await this.stores.lifecycle.leaseBlob(digest.sha256, PUSH_LEASE_MS);
    try {
      return await this.register(path, info, digest, options, audit);
    } finally {
      await this.stores.lifecycle.releaseBlobLease(lease);
    }
  }

  private async register(
    path: string,
    info: ReturnType<typeof inspectModelFile>,
    digest: FileDigest,
    options: PushOptions,
    audit: (created: VersionRecord) => AuditEntry,
  ): Promise<PushResult> {
    const { name } = options;
    const aliases = options.aliases ?? [];
    const blob = await this.sealed.putFile(
      path,
      digest,
      `${path} changed while it was being stored; push it again`,
    );
    const { signature, external_data: _external, ...modelInfo } = info;
    const record = await this.stores.models.createVersion({
      name,
      sha256: blob.sha256,
      size_bytes: blob.size_bytes,
      signature,
      model_info: modelInfo,
      source: options.source ?? path,
      created_by: options.createdBy ?? this.trail.actor,
      metrics: options.metrics ?? {},
      tags: options.tags ?? {},
      parent_version: options.parentVersion ?? null,
      run_id: options.runId ?? null,
      ...(options.description !== undefined ? { description: options.description } : {}),
      aliases,
      actor: options.createdBy ?? this.trail.actor,
      audit,
    });
    return {
      name: record.name,
      version: record.version,
      sha256: record.sha256,
      size_bytes: record.size_bytes,
    };
  }

  /** Checked before the blob is written so a bad parent leaves nothing behind; the store checks again atomically. */
  private async requireParent(name: string, parent: number): Promise<void> {
    try {
      await this.stores.models.getVersion(name, parent);
    } catch (err) {
      // On a first push the model does not exist yet: the missing thing is still the parent version.
      if (isTendError(err) && err.code === 'TEND_MODEL_NOT_FOUND') throw errors.versionNotFound(name, parent);
      throw err;
    }
  }

  /** Every model, by name. */
  list(): Promise<ModelRecord[]> {
    return this.stores.models.listModels();
  }

  /** One model. @throws TendError TEND_MODEL_NOT_FOUND */
  get(name: string): Promise<ModelRecord> {
    return this.stores.models.getModel(name);
  }

  /** Change a model's description and/or tags. @throws TendError TEND_MODEL_NOT_FOUND */
  update(name: string, update: ModelUpdate): Promise<ModelRecord> {
    return this.stores.models.updateModel(name, update);
  }

  /**
   * Remove a model with all its versions and histories; a model created later under the same name
   * continues its version numbers. Files stay until files.gc().
   * @throws TendError TEND_CONFLICT while an alias or a deployment points at any version, TEND_MODEL_NOT_FOUND.
   */
  delete(name: string, options: { actor?: string } = {}): Promise<ModelRecord> {
    return this.trail.audited('model.delete', name, () =>
      this.stores.lifecycle.deleteModel(name, options.actor ?? this.trail.actorNow()),
    );
  }

  /** A model's versions, oldest first. @throws TendError TEND_MODEL_NOT_FOUND */
  listVersions(name: string): Promise<VersionRecord[]> {
    return this.stores.models.listVersions(name);
  }

  /** One version. @throws TendError TEND_MODEL_NOT_FOUND / TEND_VERSION_NOT_FOUND */
  getVersion(name: string, version: number): Promise<VersionRecord> {
    return this.stores.models.getVersion(name, version);
  }

  /**
   * A version by reference: '3' → version 3; 'champion' → the alias's version; 'latest' → the
   * highest version (a reserved word no alias may take).
   * @throws TendError TEND_MODEL_NOT_FOUND / TEND_VERSION_NOT_FOUND / TEND_ALIAS_NOT_FOUND, or
   * TEND_INVALID_ARGUMENT when ref is neither a number nor an alias name.
   */
  async resolveVersion(name: string, ref: string): Promise<VersionRecord> {
    const parsed = parseVersionRef(ref);
    const models = this.stores.models;
    switch (parsed.kind) {
      case 'number':
        return models.getVersion(name, parsed.version);
      case 'latest':
        return models.latestVersion(name);
      case 'alias':
        return models.getVersion(name, await models.getAlias(name, parsed.alias));
    }
  }

  /**
   * Keep a version (file, metadata, lineage) but stop serving it: 'latest' and the default version
   * skip it; it still resolves by number (`archived: true`). Idempotent.
   * @throws TendError TEND_CONFLICT while an alias or a deployment route points at it (named), 404 codes.
   */
  archiveVersion(name: string, version: number, options: { actor?: string } = {}): Promise<VersionRecord> {
    return this.trail.audited('version.archive', `${name}:${version}`, () =>
      this.stores.lifecycle.archiveVersion(name, version, options.actor ?? this.trail.actorNow()),
    );
  }

  /** Serve an archived version again. Idempotent. @throws TendError 404 codes */
  unarchiveVersion(name: string, version: number): Promise<VersionRecord> {
    return this.trail.audited('version.unarchive', `${name}:${version}`, () =>
      this.stores.lifecycle.unarchiveVersion(name, version),
    );
  }

  /**
   * What points at a version now ("alias 'champion'", "deployment 'digits' canary", ...); archive and
   * delete are refused while this is not empty. @throws TendError 404 codes
   */
  referencesTo(name: string, version: number): Promise<string[]> {
    return this.stores.lifecycle.versionReferences(name, version);
  }

  /**
   * Remove a version's metadata; its number is never reused and its file stays until files.gc().
   * @throws TendError TEND_CONFLICT while referenced (see referencesTo), 404 codes.
   */
  deleteVersion(name: string, version: number): Promise<VersionRecord> {
    return this.trail.audited(
      'version.delete',
      `${name}:${version}`,
      () => this.stores.lifecycle.deleteVersion(name, version),
      (v) => ({ before: { sha256: v.sha256 } }),
    );
  }

  /** Point an alias at a version (recorded in its history). @throws TendError TEND_INVALID_ARGUMENT / 404 codes */
  setAlias(name: string, alias: string, version: number, actor?: string): Promise<AliasChange> {
    return this.trail.audited(
      'alias.move',
      `${name}@${alias}`,
      () => this.stores.models.setAlias(name, alias, version, actor ?? this.trail.actorNow()),
      (c) => ({ before: { version: c.from }, after: { version: c.to } }),
    );
  }

  /** Delete an alias (recorded in its history). @throws TendError TEND_ALIAS_NOT_FOUND / TEND_MODEL_NOT_FOUND */
  removeAlias(name: string, alias: string, actor?: string): Promise<void> {
    return this.trail.audited('alias.remove', `${name}@${alias}`, () =>
      this.stores.models.removeAlias(name, alias, actor ?? this.trail.actorNow()),
    );
  }

  /** Alias name → version. @throws TendError TEND_MODEL_NOT_FOUND */
  listAliases(name: string): Promise<Record<string, number>> {
    return this.stores.models.listAliases(name);
  }

  /** Every move of an alias, oldest first. @throws TendError TEND_MODEL_NOT_FOUND */
  aliasHistory(name: string, alias: string): Promise<AliasMove[]> {
    return this.stores.models.aliasHistory(name, alias);
  }
}
