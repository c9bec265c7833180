/**
 * The SQLite registry stores: better-sqlite3 under Kysely, WAL (readers never wait for the writer),
 * foreign keys on, a busy timeout so a second process queues for the write lock instead of failing.
 */
import { realpathSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { TendError, errors } from '../core/errors.js';
import { migrateRegistry } from './kysely-store.js';
import { kyselyRegistryStores, type KyselyRegistryStores } from './kysely-stores.js';
import type { RegistryDatabase } from './schema.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's write lock before failing (default 5000). */
  busyTimeoutMs?: number;
}

const writeTails = new Map<string, Promise<void>>();

/**
 * Queue for writes to one database file within this process. better-sqlite3 is synchronous: if one
 * connection held the write lock across an `await` while a second connection in the same thread
 * asked for it, the second would block the thread in its busy wait and the first could never commit.
 */
function writeQueue(key: string): <T>(fn: () => Promise<T>) => Promise<T> {
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    const previous = writeTails.get(key) ?? Promise.resolve();
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => done);
    writeTails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (writeTails.get(key) === tail) writeTails.delete(key);
    }
  };
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Open (creating when missing) the SQLite database at `path`, migrate it, and make every registry
 * store on it.
 * @throws TendError TEND_INVALID_ARGUMENT when the file cannot be opened as a database.
 */
export async function openSqliteStores(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<KyselyRegistryStores> {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path, { timeout: busyTimeoutMs });
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  } catch (err) {
    throw errors.invalidArgument(`cannot open the registry database ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let key: string;
  try {
    key = path === ':memory:' || path === '' ? randomUUID() : realpathSync(path);
  } catch {
    key = path;
  }
  const serializeWrites = writeQueue(key);
  const db = new Kysely<RegistryDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    // Two processes creating the same database at once: the loser of the race retries and finds it done.
    await serializeWrites(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await migrateRegistry(db);
        } catch (err) {
          if (!isBusy(err) || attempt >= 5) throw err;
        }
      }
    });
  } catch (err) {
    await db.destroy();
    if (err instanceof TendError) throw err;
    throw errors.internal(`cannot migrate the registry database ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return kyselyRegistryStores(db, { serializeWrites });
}
