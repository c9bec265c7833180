/** The artifacts part of the metadata store: files attached to a version (see artifact-schema.ts). */

export interface ArtifactRecord {
  name: string;
  version: number;
  kind: string;
  sha256: string;
  size_bytes: number;
  media_type: string;
  meta: Record<string, unknown>;
  created_at: string;
  created_by: string;
}

export type NewArtifact = Omit<ArtifactRecord, 'created_at'>;

export interface ArtifactStore {
  /** Attach a file (already in the blob store) to a version, replacing one of the same kind. @throws 404 codes */
  putArtifact(input: NewArtifact): Promise<ArtifactRecord>;
  /** The version's artifact of that kind, or null. @throws 404 codes for an unknown model or version */
  getArtifact(name: string, version: number, kind: string): Promise<ArtifactRecord | null>;
  /** Every artifact of a model (of one version when given), by version then kind. */
  listArtifacts(name: string, version?: number): Promise<ArtifactRecord[]>;
}
