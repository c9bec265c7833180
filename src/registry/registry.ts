/**
 * The registry: content-addressed model files (BlobStore) plus their metadata (RegistryStores), in
 * a home folder `<home>/registry.db` + `<home>/models/`. The engine and the CLI talk to it through
 * its parts, one per store: `registry.models`, `.deployments`, `.runs`, `.tokens`, `.audit`,
 * `.artifacts`, `.archives` and `.files`.
 */
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { KeyringSource } from '../core/encryption-env.js';
import { errors } from '../core/errors.js';
import { inspectModelFile } from '../onnx/index.js';
import { AuditTrail } from './audit-trail.js';
import { BlobStore } from './blob-store.js';
import { RegistryArchives } from './registry-archives.js';
import { RegistryArtifacts } from './registry-artifacts.js';
import { RegistryAuditLog } from './registry-audit.js';
import { RegistryDeployments } from './registry-deployments.js';
import { RegistryFiles } from './registry-files.js';
import { RegistryModels } from './registry-models.js';
import { RegistryRuns } from './registry-runs.js';
import type { RegistryStores } from './registry-stores.js';
import type { StudyStore } from './study-store.js';
import { RegistryTokens } from './registry-tokens.js';
import { SealedBlobs } from './sealed-blobs.js';
import { openSqliteStores } from './sqlite-store.js';

export interface RegistryOptions {
  /** Reads an ONNX file's signature and header (injected in tests). */
  inspect?: typeof inspectModelFile;
  /** Who pushes and moves aliases when a call names nobody (default: the OS user). */
  actor?: string;
  /** Use these stores instead of `<home>/registry.db` (PostgreSQL ones, test doubles). */
  stores?: RegistryStores;
  /**
   * Encryption keys for model files and artifacts (default: TEND_ENCRYPTION_KEY_FILE / TEND_ENCRYPTION_KEY;
   * none: plaintext).
   */
  keys?: KeyringSource;
}

function defaultActor(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env.USER ?? 'unknown'; // no passwd entry (some containers)
  }
}

/** The model store: models and versions, deployments, runs, tokens, the audit log, artifacts, archives, files. */
export class Registry {
  readonly home: string;
  /** The stores underneath, for work no part offers (blob leases in tests); changes made here are not audited. */
  readonly stores: RegistryStores;
  /** Models, versions and aliases: push, list, resolve, move aliases, archive, delete. */
  readonly models: RegistryModels;
  /** An endpoint's routes and their history. */
  readonly deployments: RegistryDeployments;
  /** Training and update runs. */
  readonly runs: RegistryRuns;
  /** Tuning studies and their trials (`tend tune`). */
  readonly studies: StudyStore;
  /** API tokens. */
  readonly tokens: RegistryTokens;
  /** The audit log of management actions. */
  readonly audit: RegistryAuditLog;
  /** Files attached to versions (reference data sets, signatures). */
  readonly artifacts: RegistryArtifacts;
  /** Export and import of a model as one tar file. */
  readonly archives: RegistryArchives;
  /** The model files: read, verify, re-seal, garbage-collect. */
  readonly files: RegistryFiles;
  private closed = false;

  private constructor(home: string, stores: RegistryStores, options: RegistryOptions) {
    this.home = home;
    this.stores = stores;
    const blobs = new BlobStore(join(home, 'models'));
    const sealed = new SealedBlobs(blobs, options.keys ?? KeyringSource.fromEnvironment());
    const inspect = options.inspect ?? inspectModelFile;
    const trail = new AuditTrail(stores.audit, options.actor ?? defaultActor());
    this.models = new RegistryModels(stores, sealed, inspect, trail);
    this.deployments = new RegistryDeployments(stores.deployments, trail);
    this.runs = new RegistryRuns(stores.runs, trail.actor);
    this.studies = stores.studies;
    this.tokens = new RegistryTokens(stores.tokens, trail);
    this.audit = new RegistryAuditLog(stores.audit);
    this.artifacts = new RegistryArtifacts(stores, sealed, trail.actor);
    this.archives = new RegistryArchives(stores, blobs, sealed, inspect, trail);
    this.files = new RegistryFiles(blobs, sealed, stores.lifecycle, trail);
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

  /** Close the database (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stores.close();
  }
}
