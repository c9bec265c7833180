/**
 * `registry.archives`: a model with its versions, files, alias history, attached files (reference data,
 * reports, signatures) and runs as one tar file, out and back in.
 */
import type { inspectModelFile } from '../onnx/index.js';
import type { AuditTrail } from './audit-trail.js';
import type { BlobStore } from './blob-store.js';
import { exportModelArchive, importModelArchive } from './model-archive.js';
import type { ExportResult, ImportOptions, ImportResult } from './model-archive.js';
import type { RegistryStores } from './registry-stores.js';
import type { SealedBlobs } from './sealed-blobs.js';

/** Model archives (`tend export` / `tend import`). */
export class RegistryArchives {
  constructor(
    private readonly stores: Pick<RegistryStores, 'models' | 'lifecycle' | 'artifacts' | 'runs'>,
    private readonly blobs: BlobStore,
    private readonly sealed: SealedBlobs,
    private readonly inspect: typeof inspectModelFile,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Write a model, its versions (metadata and files), aliases and alias history to one tar file.
   * @throws TendError TEND_MODEL_NOT_FOUND, TEND_INVALID_ARGUMENT (output path), TEND_INTERNAL (damaged registry file)
   * @example await registry.archives.export('digits', 'digits.tar') // then: tar tf digits.tar
   */
  export(name: string, outFile: string): Promise<ExportResult> {
    return exportModelArchive({ stores: this.stores, blobs: this.blobs, sealed: this.sealed }, name, outFile);
  }

  /**
   * Import an archive written by export, all or nothing, keeping version numbers.
   * @throws TendError TEND_INVALID_ARCHIVE (not a tar, truncated, manifest missing or invalid, a file
   * not matching its sha256, a bad model name), TEND_INVALID_MODEL (a file in it is not ONNX),
   * TEND_CONFLICT (the name exists: pass `as`), TEND_INVALID_ARGUMENT.
   */
  import(file: string, options: ImportOptions = {}): Promise<ImportResult> {
    return this.trail.audited(
      'model.import',
      options.as ?? null,
      () =>
        importModelArchive(
          {
            stores: this.stores,
            blobs: this.blobs,
            sealed: this.sealed,
            inspect: this.inspect,
            actor: this.trail.actorNow(),
          },
          file,
          options,
        ),
      (r) => ({ after: r }),
    );
  }
}
