/**
 * The registry facade: content-addressed model files (BlobStore) plus their metadata (RegistryStores),
 * in a home folder `<home>/registry.db` + `<home>/models/`. The engine and the CLI talk to this.
 */
import { mkdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { currentContext } from '../core/request-context.js';
import { KeyringSource } from '../core/encryption-env.js';
import { errors, isTendError } from '../core/errors.js';
import { inspectModelFile } from '../onnx/index.js';
import { BlobStore, hashFile } from './blob-store.js';
import type { FileDigest } from './blob-store.js';
import { collectGarbage, PUSH_LEASE_MS } from './blob-gc.js';
import type { GcOptions, GcResult } from './blob-gc.js';
import { exportModelArchive, importModelArchive } from './model-archive.js';
import { attachArtifact, readArtifact, type ArtifactInput } from './artifacts.js';
import { SealedBlobs, type ResealResult } from './sealed-blobs.js';
import type { Keyring } from '../core/keyring.js';
import type { ArtifactRecord } from './artifact-store.js';
import type { ExportResult, ImportOptions, ImportResult } from './model-archive.js';
import type { AuditEntry, AuditQuery, AuditRecord } from './audit-store.js';
import type { RegistryStores } from './registry-stores.js';
import type { NewRun, RunFinish, RunListOptions, RunRecord } from './run-store.js';
import type { NewToken, TokenRecord } from './token-store.js';
import { assertAliasName, assertModelName, assertTags, assertVersionNumber, parseVersionRef } from './names.js';
import { openSqliteStores } from './sqlite-store.js';
import type { AliasChange, AliasMove, ModelRecord, ModelUpdate, VersionRecord } from './store.js';
import type { DeploymentAction, DeploymentRoutesInput } from '../core/deployment.js';
import type {
  DeploymentHistoryEntry,
  DeploymentHistoryOptions,
  DeploymentRecord,
  DeploymentReference,
} from './deployment-store.js';

export interface RegistryOptions {
  /** Reads an ONNX file's signature and header (injected in tests). */
  inspect?: typeof inspectModelFile;
  /** Who pushes and moves aliases when a call names nobody (default: the OS user). */
  actor?: string;
  /** Use these stores instead of `<home>/registry.db` (PostgreSQL ones, test doubles). */
  stores?: RegistryStores;
  /** Encryption keys for model files and artifacts (default: TEND_ENCRYPTION_KEY_FILE / TEND_ENCRYPTION_KEY; none: plaintext). */
  keys?: KeyringSource;
}

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

/** Who changes a deployment, how and why (recorded in its history). */
export interface DeploymentWriteOptions {
  action: DeploymentAction;
  /** Default: the registry's actor. */
  actor?: string;
  reason?: string;
  /** Write only while the deployment is at this revision (null: while it has none), else TEND_CONFLICT. */
  expectedRevision?: number | null;
}

export interface PushResult {
  name: string;
  version: number;
  sha256: string;
  size_bytes: number;
}

function defaultActor(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env.USER ?? 'unknown'; // no passwd entry (some containers)
  }
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

/** The model store: push ONNX files, list and resolve versions, move aliases. */
export class Registry {
  readonly home: string;
  readonly blobs: BlobStore;
  /** The blob store through the keyring: encrypts on write when keys are configured, decrypts on read. */
  readonly sealed: SealedBlobs;
  /** The stores underneath, for work no method offers (blob leases in tests); changes made here are not audited. */
  readonly stores: RegistryStores;
  private readonly inspect: typeof inspectModelFile;
  private readonly actor: string;
  private closed = false;

  /** Who acts now: the frontend's caller (token id) when a request set one, else the registry's actor. */
  private actorNow(): string {
    return currentContext()?.actor ?? this.actor;
  }

  /** Who acts, from where, doing what to what: the part of an audit entry known before the work. */
  private auditSubject(action: string, target: string | null): AuditEntry {
    const context = currentContext();
    return { actor: context?.actor ?? this.actor, source: context?.source ?? 'cli', action, ...(target !== null ? { target } : {}) };
  }

  /** Record a failed action; an audit log that cannot be written must not hide the action's own error. */
  private async auditFailure(subject: AuditEntry, err: unknown): Promise<void> {
    await this.stores.audit.appendAudit({ ...subject, outcome: 'failed', detail: String((err as Error).message ?? err).slice(0, 500) }).catch(() => undefined);
  }

  /**
   * Run a management action and append it to the audit log (append-only): who, from where, what,
   * on what, before/after, and whether it worked. A failed action is recorded as failed and rethrown.
   */
  private async audited<T>(action: string, target: string | null, work: () => Promise<T>, describe?: (result: T) => { before?: unknown; after?: unknown; detail?: string }): Promise<T> {
    const who = this.auditSubject(action, target);
    let result: T;
    try {
      result = await work();
    } catch (err) {
      await this.auditFailure(who, err);
      throw err;
    }
    await this.stores.audit.appendAudit({ ...who, outcome: 'ok', ...(describe ? describe(result) : {}) });
    return result;
  }

  private constructor(home: string, stores: RegistryStores, options: RegistryOptions) {
    this.home = home;
    this.stores = stores;
    this.blobs = new BlobStore(join(home, 'models'));
    this.sealed = new SealedBlobs(this.blobs, options.keys ?? KeyringSource.fromEnvironment());
    this.inspect = options.inspect ?? inspectModelFile;
    this.actor = options.actor ?? defaultActor();
  }

  /**
   * Open the registry in `home`, creating the folder, `registry.db` and its tables when missing.
   * @throws TendError TEND_INVALID_ARGUMENT when home is not a usable folder.
   */
  static async open(home: string, options: RegistryOptions = {}): Promise<Registry> {
    const dir = resolve(home);
    try {
      mkdirSync(join(dir, 'models', 'sha256'), { recursive: true });
    } catch (err) {
      throw errors.invalidArgument(`cannot use ${dir} as the registry home: ${(err as Error).message}`);
    }
    const stores = options.stores ?? (await openSqliteStores(join(dir, 'registry.db')));
    return new Registry(dir, stores, options);
  }

  /**
   * Add an ONNX file as the next version of a model (creating the model on its first push).
   * The file is checked before anything is written; its bytes are stored before the version row,
   * so a row never points at a missing file; a blob lease keeps gc() off the file meanwhile. The
   * version row, every alias move and the 'ok' audit entry commit in one transaction: a push
   * killed at any moment leaves either all of them or none.
   * @throws TendError TEND_INVALID_MODEL (not ONNX, external data), TEND_INVALID_ARGUMENT (bad name,
   * alias, tags, unreadable file), TEND_VERSION_NOT_FOUND (unknown parentVersion).
   * @example await registry.push('model.onnx', { name: 'digits', aliases: ['champion'] })
   */
  async push(file: string, options: PushOptions): Promise<PushResult> {
    const subject = this.auditSubject('model.push', options.name);
    // The 'ok' entry commits in the version's own transaction (with its alias moves), never apart from it.
    const audit = (created: VersionRecord): AuditEntry => ({
      ...subject,
      outcome: 'ok',
      after: { version: created.version, sha256: created.sha256, aliases: options.aliases ?? [] },
    });
    try {
      return await this.pushFile(file, options, audit);
    } catch (err) {
      await this.auditFailure(subject, err);
      throw err;
    }
  }

  private async pushFile(file: string, options: PushOptions, audit: (created: VersionRecord) => AuditEntry): Promise<PushResult> {
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
    const blob = await this.sealed.putFile(path, digest, `${path} changed while it was being stored; push it again`);
    const { signature, external_data: _external, ...modelInfo } = info;
    const record = await this.stores.models.createVersion({
      name,
      sha256: blob.sha256,
      size_bytes: blob.size_bytes,
      signature,
      model_info: modelInfo,
      source: options.source ?? path,
      created_by: options.createdBy ?? this.actor,
      metrics: options.metrics ?? {},
      tags: options.tags ?? {},
      parent_version: options.parentVersion ?? null,
      run_id: options.runId ?? null,
      ...(options.description !== undefined ? { description: options.description } : {}),
      aliases,
      actor: options.createdBy ?? this.actor,
      audit,
    });
    return { name: record.name, version: record.version, sha256: record.sha256, size_bytes: record.size_bytes };
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
  listModels(): Promise<ModelRecord[]> {
    return this.stores.models.listModels();
  }

  /** One model. @throws TendError TEND_MODEL_NOT_FOUND */
  getModel(name: string): Promise<ModelRecord> {
    return this.stores.models.getModel(name);
  }

  /** Change a model's description and/or tags. @throws TendError TEND_MODEL_NOT_FOUND */
  updateModel(name: string, update: ModelUpdate): Promise<ModelRecord> {
    return this.stores.models.updateModel(name, update);
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
    switch (parsed.kind) {
      case 'number':
        return this.stores.models.getVersion(name, parsed.version);
      case 'latest':
        return this.stores.models.latestVersion(name);
      case 'alias':
        return this.stores.models.getVersion(name, await this.stores.models.getAlias(name, parsed.alias));
    }
  }

  /** Point an alias at a version (recorded in its history). @throws TendError TEND_INVALID_ARGUMENT / 404 codes */
  setAlias(name: string, alias: string, version: number, actor?: string): Promise<AliasChange> {
    return this.audited(`alias.move`, `${name}@${alias}`, () => this.stores.models.setAlias(name, alias, version, actor ?? this.actorNow()), (c) => ({ before: { version: c.from }, after: { version: c.to } }));
  }

  /** Delete an alias (recorded in its history). @throws TendError TEND_ALIAS_NOT_FOUND / TEND_MODEL_NOT_FOUND */
  removeAlias(name: string, alias: string, actor?: string): Promise<void> {
    return this.audited('alias.remove', `${name}@${alias}`, () => this.stores.models.removeAlias(name, alias, actor ?? this.actorNow()));
  }

  /** Alias name → version. @throws TendError TEND_MODEL_NOT_FOUND */
  listAliases(name: string): Promise<Record<string, number>> {
    return this.stores.models.listAliases(name);
  }

  /** Every move of an alias, oldest first. @throws TendError TEND_MODEL_NOT_FOUND */
  aliasHistory(name: string, alias: string): Promise<AliasMove[]> {
    return this.stores.models.aliasHistory(name, alias);
  }

  // --- Deployments: an endpoint's routes and their history (deployment-store.ts) ---

  private deploymentChange(options: Partial<DeploymentWriteOptions>, action: DeploymentAction) {
    return {
      actor: options.actor ?? this.actorNow(),
      action: options.action ?? action,
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.expectedRevision !== undefined ? { expected_revision: options.expectedRevision } : {}),
    };
  }

  /** An endpoint's routes, or null when it has none. @throws TendError TEND_MODEL_NOT_FOUND */
  getDeployment(endpoint: string): Promise<DeploymentRecord | null> {
    return this.stores.deployments.getDeployment(endpoint);
  }

  /** Every deployment, by endpoint. */
  listDeployments(): Promise<DeploymentRecord[]> {
    return this.stores.deployments.listDeployments();
  }

  /**
   * Validate and write an endpoint's routes and a history entry in one transaction; returns the new
   * state (unchanged, with no entry, when the routes are the same).
   * @throws TendError TEND_INVALID_ARGUMENT, TEND_MODEL_NOT_FOUND, TEND_VERSION_NOT_FOUND,
   * TEND_ALIAS_NOT_FOUND, TEND_CONFLICT (archived version, revision moved on)
   * @example await registry.putDeployment('digits', { champion: 3, canary: { version: 4, percent: 10 } }, { action: 'canary' })
   */
  putDeployment(endpoint: string, routes: DeploymentRoutesInput, options: DeploymentWriteOptions): Promise<DeploymentRecord> {
    return this.audited(`deployment.${options.action}`, endpoint, () => this.stores.deployments.putDeployment(endpoint, routes, this.deploymentChange(options, options.action)), (d) => ({ after: { revision: d.revision, routes: d.routes }, ...(options.reason !== undefined ? { detail: options.reason } : {}) }));
  }

  /** Remove an endpoint's routes (history kept); returns what was removed. @throws TendError TEND_NOT_FOUND / TEND_MODEL_NOT_FOUND */
  deleteDeployment(endpoint: string, options: Partial<DeploymentWriteOptions> = {}): Promise<DeploymentRecord> {
    return this.audited('deployment.delete', endpoint, () => this.stores.deployments.deleteDeployment(endpoint, this.deploymentChange(options, 'delete')), (d) => ({ before: { revision: d.revision, routes: d.routes } }));
  }

  /** Changes to an endpoint's routes, newest first. @throws TendError TEND_MODEL_NOT_FOUND */
  deploymentHistory(endpoint: string, options: DeploymentHistoryOptions = {}): Promise<DeploymentHistoryEntry[]> {
    return this.stores.deployments.deploymentHistory(endpoint, options);
  }

  /** The routes that point at a version now, directly, through an alias or through 'latest'. */
  deploymentReferences(name: string, version: number): Promise<DeploymentReference[]> {
    return this.stores.deployments.deploymentReferences(name, version);
  }

  // --- Lifecycle: archive, delete, garbage collection, export and import ---

  /**
   * Keep a version (file, metadata, lineage) but stop serving it: 'latest' and the default version
   * skip it; it still resolves by number (`archived: true`). Idempotent.
   * @throws TendError TEND_CONFLICT while an alias or a deployment route points at it (named), 404 codes.
   */
  archiveVersion(name: string, version: number, options: { actor?: string } = {}): Promise<VersionRecord> {
    return this.audited('version.archive', `${name}:${version}`, () => this.stores.lifecycle.archiveVersion(name, version, options.actor ?? this.actorNow()));
  }

  /** Serve an archived version again. Idempotent. @throws TendError 404 codes */
  unarchiveVersion(name: string, version: number): Promise<VersionRecord> {
    return this.audited('version.unarchive', `${name}:${version}`, () => this.stores.lifecycle.unarchiveVersion(name, version));
  }

  /**
   * What points at a version now ("alias 'champion'", "deployment 'digits' canary", ...); archive and
   * delete are refused while this is not empty. @throws TendError 404 codes
   */
  referencesTo(name: string, version: number): Promise<string[]> {
    return this.stores.lifecycle.versionReferences(name, version);
  }

  /**
   * Remove a version's metadata; its number is never reused and its file stays until gc().
   * @throws TendError TEND_CONFLICT while referenced (see referencesTo), 404 codes.
   */
  deleteVersion(name: string, version: number): Promise<VersionRecord> {
    return this.audited('version.delete', `${name}:${version}`, () => this.stores.lifecycle.deleteVersion(name, version), (v) => ({ before: { sha256: v.sha256 } }));
  }

  /**
   * Remove a model with all its versions and histories; a model created later under the same name
   * continues its version numbers. Files stay until gc().
   * @throws TendError TEND_CONFLICT while an alias or a deployment points at any version, TEND_MODEL_NOT_FOUND.
   */
  deleteModel(name: string, options: { actor?: string } = {}): Promise<ModelRecord> {
    return this.audited('model.delete', name, () => this.stores.lifecycle.deleteModel(name, options.actor ?? this.actorNow()));
  }

  /**
   * Delete model files no version references and temp files of interrupted copies; never a file a
   * version row references, a push holds a lease on, or that changed in the last minAgeSeconds.
   * @example await registry.gc({ dryRun: true }) // what would go, nothing removed
   */
  gc(options: GcOptions = {}): Promise<GcResult> {
    if (options.dryRun) return collectGarbage(this.blobs, this.stores.lifecycle, options);
    return this.audited('gc', null, () => collectGarbage(this.blobs, this.stores.lifecycle, options), (r) => ({ after: { removed: r.removed.length } }));
  }

  /**
   * Write a model, its versions (metadata and files), aliases and alias history to one tar file.
   * @throws TendError TEND_MODEL_NOT_FOUND, TEND_INVALID_ARGUMENT (output path), TEND_INTERNAL (damaged registry file)
   * @example await registry.exportModel('digits', 'digits.tar') // then: tar tf digits.tar
   */
  exportModel(name: string, outFile: string): Promise<ExportResult> {
    return exportModelArchive({ stores: this.stores, blobs: this.blobs, sealed: this.sealed }, name, outFile);
  }

  /**
   * Import an archive written by exportModel, all or nothing, keeping version numbers.
   * @throws TendError TEND_INVALID_ARCHIVE (not a tar, truncated, manifest missing or invalid, a file
   * not matching its sha256, a bad model name), TEND_INVALID_MODEL (a file in it is not ONNX),
   * TEND_CONFLICT (the name exists: pass `as`), TEND_INVALID_ARGUMENT.
   */
  importModel(file: string, options: ImportOptions = {}): Promise<ImportResult> {
    return this.audited('model.import', options.as ?? null, () => importModelArchive({ stores: this.stores, blobs: this.blobs, sealed: this.sealed, inspect: this.inspect, actor: this.actorNow() }, file, options), (r) => ({ after: r }));
  }

  /**
   * Attach a file to a version (one per kind; a new one replaces the old), e.g. the monitoring
   * reference data set as kind 'reference'. @throws TendError 404 codes, TEND_INVALID_ARGUMENT
   */
  attachArtifact(name: string, version: number, kind: string, bytes: Uint8Array, input: Omit<ArtifactInput, 'actor'> & { actor?: string }): Promise<ArtifactRecord> {
    return attachArtifact({ stores: this.stores, sealed: this.sealed }, name, version, kind, bytes, { ...input, actor: input.actor ?? this.actor });
  }

  /** A version's artifact of `kind` with its bytes (hash checked), or null. @throws TendError 404 codes */
  readArtifact(name: string, version: number, kind: string): Promise<{ record: ArtifactRecord; bytes: Buffer } | null> {
    return readArtifact({ stores: this.stores, sealed: this.sealed }, name, version, kind);
  }

  /** Every artifact of a model (of one version when given). @throws TendError 404 codes */
  listArtifacts(name: string, version?: number): Promise<ArtifactRecord[]> {
    return this.stores.artifacts.listArtifacts(name, version);
  }

  // --- Training runs, API tokens and the audit log, in the same database ---

  /** Record the start of a training or update as 'running' (createdBy: the registry's actor). @throws TendError TEND_INVALID_ARGUMENT */
  startRun(input: Omit<NewRun, 'createdBy'> & { createdBy?: string }): Promise<RunRecord> {
    return this.stores.runs.startRun({ ...input, createdBy: input.createdBy ?? this.actor });
  }

  /** Mark a run finished, linking the version it produced. @throws TendError TEND_NOT_FOUND, TEND_CONFLICT, TEND_VERSION_NOT_FOUND */
  finishRun(runId: string, finish: RunFinish): Promise<RunRecord> {
    return this.stores.runs.finishRun(runId, finish);
  }

  /** Mark a run failed with its error. @throws TendError TEND_NOT_FOUND, TEND_CONFLICT (not running) */
  failRun(runId: string, error: string, epochs?: readonly object[]): Promise<RunRecord> {
    return this.stores.runs.failRun(runId, error, epochs);
  }

  /** One run. @throws TendError TEND_NOT_FOUND */
  getRun(runId: string): Promise<RunRecord> {
    return this.stores.runs.getRun(runId);
  }

  /** Runs, newest first. */
  listRuns(options: RunListOptions = {}): Promise<RunRecord[]> {
    return this.stores.runs.listRuns(options);
  }

  /** Store a token's SHA-256 with its scopes (the token itself is never stored). @throws TendError TEND_INVALID_ARGUMENT, TEND_CONFLICT */
  createToken(input: Omit<NewToken, 'createdBy'> & { createdBy?: string }): Promise<TokenRecord> {
    return this.audited('token.create', input.id, () => this.stores.tokens.createToken({ ...input, createdBy: input.createdBy ?? this.actorNow() }), (t) => ({ after: { name: t.name, scopes: t.scopes, models: t.models } }));
  }

  /** Every token (revoked ones included), oldest first; never their hashes. */
  listTokens(): Promise<TokenRecord[]> {
    return this.stores.tokens.listTokens();
  }

  /** Every token with its hash, for the server's in-memory check of each request; never for display. */
  listTokensWithHashes(): Promise<(TokenRecord & { token_sha256: string })[]> {
    return this.stores.tokens.listTokensWithHashes();
  }

  /** The token with this SHA-256, revoked or not, or null. */
  findTokenByHash(sha256: string): Promise<TokenRecord | null> {
    return this.stores.tokens.findTokenByHash(sha256);
  }

  /** @throws TendError TEND_NOT_FOUND, TEND_CONFLICT (already revoked) */
  revokeToken(id: string, by?: string): Promise<TokenRecord> {
    return this.audited('token.revoke', id, () => this.stores.tokens.revokeToken(id, by ?? this.actorNow()));
  }

  /** Record a token's use (written at most once a minute); true when written. */
  touchToken(id: string, at: Date = new Date()): Promise<boolean> {
    return this.stores.tokens.touchToken(id, at);
  }

  /** Append a management action to the audit log. @throws TendError TEND_INVALID_ARGUMENT */
  audit(entry: AuditEntry): Promise<AuditRecord> {
    return this.stores.audit.appendAudit(entry);
  }

  /** Audit entries, newest first (default at most 100). @throws TendError TEND_INVALID_ARGUMENT */
  listAudit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    return this.stores.audit.listAudit(query);
  }

  /** Absolute path of a version's model file (encrypted when modelFileSealed: read it with modelBytes). */
  modelFile(version: VersionRecord): string {
    return this.blobs.pathFor(version.sha256);
  }

  /** True when the version's model file is encrypted at rest (only modelBytes can read it then). */
  modelFileSealed(version: VersionRecord): Promise<boolean> {
    return this.sealed.hasEnvelopeHeader(version.sha256);
  }

  /**
   * A version's model bytes, decrypted in memory when sealed, checked against its recorded sha256.
   * @throws TendError TEND_INVALID_MODEL (unreadable, changed on disk, tampered), TEND_INVALID_CONFIG
   * (encrypted with a key TEND_ENCRYPTION_KEY_FILE does not hold).
   */
  async modelBytes(version: VersionRecord): Promise<Buffer> {
    const label = `${version.name}:${version.version}`;
    let opened;
    try {
      opened = await this.sealed.read(version.sha256, `model file of ${label}`);
    } catch (err) {
      if (isTendError(err)) throw err;
      throw errors.invalidModel(`${label}: cannot read its model file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
    }
    if (!opened.matches) {
      throw errors.invalidModel(`${label}: the model file does not match the sha256 recorded at push (${version.sha256.slice(0, 16)}…); it was changed on disk`);
    }
    return opened.plain;
  }

  /** True when the version's stored file (decrypted when sealed) still has the content it was pushed with. */
  verifyVersion(version: VersionRecord): Promise<boolean> {
    return this.sealed.verify(version.sha256);
  }

  /**
   * Seal every model file and artifact with `keyring`'s active key (after a rotation, or to turn
   * encryption on): older envelopes re-sealed, plaintext sealed, one file at a time.
   */
  resealBlobs(keyring: Keyring): Promise<ResealResult> {
    return this.audited('keys.reseal', null, () => this.sealed.reseal(keyring), (r) => ({ after: { resealed: r.resealed, encrypted: r.encrypted, failed: r.failed.length } }));
  }

  /** Close the database (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stores.close();
  }
}
