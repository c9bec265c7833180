/** ArtifactStore over the registry database (artifact-schema.ts). */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { errors } from '../core/errors.js';
import type { ArtifactRecord, ArtifactStore, NewArtifact } from './artifact-store.js';
import type { VersionArtifactsTable } from './artifact-schema.js';
import type { RegistryDatabase } from './schema.js';

type Write = <T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>) => Promise<T>;
type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>;

const KIND = /^[a-z][a-z0-9_-]{0,63}$/;

function toRecord(row: Selectable<VersionArtifactsTable>): ArtifactRecord {
  return {
    name: row.model_name,
    version: Number(row.version),
    kind: row.kind,
    sha256: row.sha256,
    size_bytes: Number(row.size_bytes),
    media_type: row.media_type,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
    created_at: row.created_at,
    created_by: row.created_by,
  };
}

function assertKind(kind: string): void {
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    throw errors.invalidArgument(
      `artifact kind '${String(kind)}' must be lower-case letters, digits, '_' or '-' (at most 64, starting with a letter)`,
    );
  }
}

export class KyselyArtifacts implements ArtifactStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly write: Write,
  ) {}

  private async requireVersion(db: Db, name: string, version: number): Promise<void> {
    const model = await db.selectFrom('models').select('name').where('name', '=', name).executeTakeFirst();
    if (model === undefined) throw errors.modelNotFound(name);
    const row = await db
      .selectFrom('model_versions')
      .select('version')
      .where('model_name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    if (row === undefined) throw errors.versionNotFound(name, version);
  }

  async putArtifact(input: NewArtifact): Promise<ArtifactRecord> {
    assertKind(input.kind);
    if (!/^[0-9a-f]{64}$/.test(input.sha256))
      throw errors.invalidArgument(`invalid sha256 '${input.sha256}'`);
    if (!Number.isSafeInteger(input.size_bytes) || input.size_bytes < 0)
      throw errors.invalidArgument('size_bytes must be a non-negative integer');
    const createdAt = new Date().toISOString();
    return this.write(async (trx) => {
      // The model row is the write lock of every change to the model (see kysely-store.ts).
      const touched = await trx
        .updateTable('models')
        .set({ updated_at: createdAt })
        .where('name', '=', input.name)
        .executeTakeFirst();
      if (Number(touched.numUpdatedRows) === 0) throw errors.modelNotFound(input.name);
      await this.requireVersion(trx, input.name, input.version);
      await trx
        .deleteFrom('version_artifacts')
        .where('model_name', '=', input.name)
        .where('version', '=', input.version)
        .where('kind', '=', input.kind)
        .execute();
      const row = {
        model_name: input.name,
        version: input.version,
        kind: input.kind,
        sha256: input.sha256,
        size_bytes: input.size_bytes,
        media_type: input.media_type,
        meta: JSON.stringify(input.meta),
        created_at: createdAt,
        created_by: input.created_by,
      };
      await trx.insertInto('version_artifacts').values(row).execute();
      return toRecord(row);
    });
  }

  async getArtifact(name: string, version: number, kind: string): Promise<ArtifactRecord | null> {
    assertKind(kind);
    await this.requireVersion(this.db, name, version);
    const row = await this.db
      .selectFrom('version_artifacts')
      .selectAll()
      .where('model_name', '=', name)
      .where('version', '=', version)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row === undefined ? null : toRecord(row);
  }

  async listArtifacts(name: string, version?: number): Promise<ArtifactRecord[]> {
    if (version === undefined) {
      const model = await this.db
        .selectFrom('models')
        .select('name')
        .where('name', '=', name)
        .executeTakeFirst();
      if (model === undefined) throw errors.modelNotFound(name);
    } else {
      await this.requireVersion(this.db, name, version);
    }
    let query = this.db.selectFrom('version_artifacts').selectAll().where('model_name', '=', name);
    if (version !== undefined) query = query.where('version', '=', version);
    return (await query.orderBy('version').orderBy('kind').execute()).map(toRecord);
  }
}
