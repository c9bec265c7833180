/**
 * What must hold of a tend home after any kill -9: the registry database passes SQLite's integrity
 * and foreign-key checks; every file under a blob's final name is complete (hashes to its name) —
 * half-written copies may exist only under their temp names, which no reader opens; every version
 * and artifact row names a blob that exists with its size and hash; every alias's last history entry
 * is the move that put it where it is (both are written in one transaction). For monitor.db: integrity, and
 * no row pointing at a missing or too short block of floats.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const BLOB_NAME = /^([0-9a-f]{64})\.onnx$/;
const TEMP_NAME = /^\.([0-9a-f]{64})\.onnx\.\d+\.[0-9a-f]+\.tmp$/;

export interface RegistryState {
  versions: { model_name: string; version: number; sha256: string; size_bytes: number; status: string }[];
  aliases: { model_name: string; alias: string; version: number }[];
  tokens: { id: string; revoked_at: string | null }[];
  /** The audit log, oldest first (`after` parsed). */
  audit: { seq: number; action: string; target: string | null; outcome: string; after: unknown }[];
  /** Temp files of interrupted copies (allowed: readers never look at them). */
  tempFiles: number;
  blobFiles: number;
}

/** Hashes of blob files already checked, by path + inode + size + mtime (blobs never change in place). */
export type HashCache = Map<string, string>;

function fileHash(path: string, cache: HashCache): { sha256: string; size: number } {
  const info = statSync(path);
  const key = `${path}:${info.ino}:${info.size}:${info.mtimeMs}`;
  let sha256 = cache.get(key);
  if (sha256 === undefined) {
    sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    cache.set(key, sha256);
  }
  return { sha256, size: info.size };
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Check a registry home read-only; problems are returned, not thrown. */
export function checkRegistryHome(
  home: string,
  cache: HashCache,
): { problems: string[]; state: RegistryState } {
  const problems: string[] = [];
  const state: RegistryState = {
    versions: [],
    aliases: [],
    tokens: [],
    audit: [],
    tempFiles: 0,
    blobFiles: 0,
  };
  const db = new Database(join(home, 'registry.db'), { readonly: true, fileMustExist: true });
  let artifacts: { sha256: string; size_bytes: number }[] = [];
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') problems.push(`registry.db integrity_check: ${String(integrity)}`);
    const fk = db.pragma('foreign_key_check') as unknown[];
    if (fk.length > 0) problems.push(`registry.db foreign_key_check: ${JSON.stringify(fk).slice(0, 500)}`);
    if (tableExists(db, 'model_versions')) {
      state.versions = db
        .prepare(
          'SELECT model_name, version, sha256, size_bytes, status FROM model_versions ORDER BY model_name, version',
        )
        .all() as RegistryState['versions'];
      state.aliases = db
        .prepare('SELECT model_name, alias, version FROM model_aliases')
        .all() as RegistryState['aliases'];
      const lastMove = db
        .prepare(
          'SELECT to_version FROM alias_history WHERE model_name = ? AND alias = ? ORDER BY seq DESC LIMIT 1',
        )
        .pluck();
      for (const a of state.aliases) {
        const to = lastMove.get(a.model_name, a.alias) as number | null | undefined;
        if (to !== a.version)
          problems.push(
            `${a.model_name}@${a.alias} points at version ${a.version}, but its history's last move is to ${String(to ?? 'nothing')}`,
          );
      }
    }
    if (tableExists(db, 'api_tokens'))
      state.tokens = db
        .prepare('SELECT id, revoked_at FROM api_tokens ORDER BY id')
        .all() as RegistryState['tokens'];
    if (tableExists(db, 'audit_log')) {
      const rows = db
        .prepare('SELECT seq, action, target, outcome, after FROM audit_log ORDER BY seq')
        .all() as (Omit<RegistryState['audit'][number], 'after'> & { after: string | null })[];
      state.audit = rows.map((r) => ({
        ...r,
        after: r.after === null ? null : (JSON.parse(r.after) as unknown),
      }));
    }
    if (tableExists(db, 'version_artifacts'))
      artifacts = db.prepare('SELECT sha256, size_bytes FROM version_artifacts').all() as typeof artifacts;
  } finally {
    db.close();
  }

  const blobs = new Map<string, number>();
  const top = join(home, 'models', 'sha256');
  let fanout: string[] = [];
  try {
    fanout = readdirSync(top);
  } catch {
    // no model stored yet
  }
  for (const prefix of fanout) {
    for (const name of readdirSync(join(top, prefix))) {
      const path = join(top, prefix, name);
      if (TEMP_NAME.test(name)) {
        state.tempFiles++;
        continue;
      }
      const blob = BLOB_NAME.exec(name);
      if (!blob || !name.startsWith(prefix)) {
        problems.push(`unexpected file in the blob store: ${path}`);
        continue;
      }
      state.blobFiles++;
      const { sha256, size } = fileHash(path, cache);
      if (sha256 !== blob[1])
        problems.push(
          `blob ${name} holds other content (sha256 ${sha256}, ${size} bytes): a half-written file under a final name`,
        );
      else blobs.set(sha256, size);
    }
  }
  for (const v of state.versions) {
    const size = blobs.get(v.sha256);
    if (size === undefined)
      problems.push(`${v.model_name} version ${v.version}: its file ${v.sha256} is missing`);
    else if (size !== Number(v.size_bytes))
      problems.push(`${v.model_name} version ${v.version}: ${size} bytes on disk, ${v.size_bytes} recorded`);
  }
  for (const a of artifacts) {
    if (!blobs.has(a.sha256)) problems.push(`artifact file ${a.sha256} is missing`);
  }
  return { problems, state };
}

/** Check monitor.db read-only after a kill. */
export function checkMonitorDb(path: string): {
  problems: string[];
  rows: number;
  labelled: Map<string, number>;
} {
  const problems: string[] = [];
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') problems.push(`monitor.db integrity_check: ${String(integrity)}`);
    const rows = db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
    // A row commits with its block of floats (one transaction): never one without the other.
    const dangling = db
      .prepare(
        `SELECT count(*) FROM predictions p LEFT JOIN float_blocks b ON b.id = p.block_id
         WHERE p.block_id IS NOT NULL AND (b.id IS NULL OR length(b.data) < 4 * (p.floats_at + coalesce(p.features_count, 0) + coalesce(p.probabilities_count, 0)))`,
      )
      .pluck()
      .get() as number;
    if (dangling > 0)
      problems.push(`${dangling} prediction rows point at a missing or short block of floats`);
    const labelled = new Map<string, number>();
    for (const r of db
      .prepare(
        'SELECT request_id, count(*) AS n FROM predictions WHERE label IS NOT NULL GROUP BY request_id',
      )
      .all() as { request_id: string; n: number }[]) {
      labelled.set(r.request_id, r.n);
    }
    return { problems, rows, labelled };
  } finally {
    db.close();
  }
}
