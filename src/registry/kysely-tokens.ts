/** TokenStore over the registry database (security-schema.ts), in portable queries. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { errors, FIX_IN_MESSAGE } from '../core/errors.js';
import type { RegistryDatabase } from './schema.js';
import type { ApiTokensTable } from './security-schema.js';
import type { NewToken, TokenRecord, TokenStore } from './token-store.js';
import { now } from './version-rows.js';

type Write = <T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>) => Promise<T>;

const TOKEN_ID = /^[A-Za-z0-9_-]{1,32}$/;
const TOKEN_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const SCOPE = /^[a-z][a-z0-9_:-]{0,31}$/;
// Model-name characters plus the glob ones.
const MODEL_GLOB = /^[A-Za-z0-9_.*?[\]!-]{1,128}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** last_used_at is a hint, not a log: one write a minute per token keeps requests off the write lock. */
const TOUCH_EVERY_MS = 60_000;

const tokenNotFound = (id: string) => errors.notFound(`token '${id}' not found`);

function toRecord(row: Selectable<ApiTokensTable>): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    created_at: row.created_at,
    created_by: row.created_by,
    revoked_at: row.revoked_at,
    revoked_by: row.revoked_by,
    last_used_at: row.last_used_at,
  };
}

function assertList(what: string, list: unknown, pattern: RegExp, rule: string): asserts list is string[] {
  if (!Array.isArray(list) || list.length === 0)
    throw errors.invalidArgument(`${what} must be a non-empty list`);
  for (const item of list) {
    if (typeof item !== 'string' || !pattern.test(item))
      throw errors.invalidArgument(`invalid ${what.replace(/s$/, '')} '${String(item)}': ${rule}`);
  }
  if (new Set(list).size !== list.length) throw errors.invalidArgument(`${what} must not repeat`);
}

function assertNewToken(input: NewToken): void {
  if (typeof input.id !== 'string' || !TOKEN_ID.test(input.id)) {
    throw errors.invalidArgument(
      `invalid token id '${String(input.id)}': use 1-32 letters, digits, '_' or '-'`,
    );
  }
  if (typeof input.name !== 'string' || !TOKEN_NAME.test(input.name)) {
    throw errors.invalidArgument(
      `invalid token name '${String(input.name)}': use 1-64 letters, digits, '.', '_' or '-'`,
    );
  }
  if (typeof input.tokenSha256 !== 'string' || !SHA256.test(input.tokenSha256)) {
    throw errors.invalidArgument('the token hash must be 64 lower-case hex digits');
  }
  assertList('scopes', input.scopes, SCOPE, 'lower-case letters, digits, _, : or -');
  if (input.models !== null)
    assertList('models', input.models, MODEL_GLOB, 'model-name characters and the glob characters * ? [ ] !');
  if (typeof input.createdBy !== 'string' || input.createdBy === '')
    throw errors.invalidArgument('createdBy must be a non-empty string');
}

export class KyselyTokens implements TokenStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly write: Write,
  ) {}

  async createToken(input: NewToken): Promise<TokenRecord> {
    assertNewToken(input);
    const row = {
      id: input.id,
      name: input.name,
      token_sha256: input.tokenSha256,
      scopes: JSON.stringify(input.scopes),
      models: input.models === null ? null : JSON.stringify(input.models),
      created_at: now(),
      created_by: input.createdBy,
      revoked_at: null,
      revoked_by: null,
      last_used_at: null,
    };
    await this.refuseClash(row);
    try {
      await this.write((trx) => trx.insertInto('api_tokens').values(row).execute());
    } catch (err) {
      await this.refuseClash(row); // a token written meanwhile: the unique index said no
      throw err;
    }
    return toRecord(row);
  }

  /**
   * TEND_CONFLICT when the id, the hash or (among live tokens) the name is taken. Read outside the
   * write transaction: on SQLite a transaction that reads first can fail when another process commits.
   */
  private async refuseClash(row: { id: string; name: string; token_sha256: string }): Promise<void> {
    const clash = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'token_sha256'])
      .where((eb) =>
        eb.or([
          eb('id', '=', row.id),
          eb('token_sha256', '=', row.token_sha256),
          eb.and([eb('name', '=', row.name), eb('revoked_at', 'is', null)]),
        ]),
      )
      .executeTakeFirst();
    if (clash === undefined) return;
    if (clash.id === row.id) throw errors.conflict(`a token with id '${row.id}' exists`);
    if (clash.token_sha256 === row.token_sha256)
      throw errors.conflict('a token with this hash exists; make a new token', FIX_IN_MESSAGE);
    throw errors.conflict(
      `a token named '${row.name}' exists; revoke it first or pick another name`,
      FIX_IN_MESSAGE,
    );
  }

  async listTokens(): Promise<TokenRecord[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async listTokensWithHashes(): Promise<(TokenRecord & { token_sha256: string })[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({ ...toRecord(row), token_sha256: row.token_sha256 }));
  }

  async findTokenByHash(sha256: string): Promise<TokenRecord | null> {
    if (typeof sha256 !== 'string' || !SHA256.test(sha256)) return null; // not a hash we could have stored
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_sha256', '=', sha256)
      .executeTakeFirst();
    return row === undefined ? null : toRecord(row);
  }

  async revokeToken(id: string, by: string): Promise<TokenRecord> {
    if (typeof by !== 'string' || by === '')
      throw errors.invalidArgument('who revokes must be a non-empty string');
    return this.write(async (trx) => {
      const at = now();
      const updated = await trx
        .updateTable('api_tokens')
        .set({ revoked_at: at, revoked_by: by })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const row = await trx.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      if (row === undefined) throw tokenNotFound(id);
      if (Number(updated.numUpdatedRows) === 0)
        throw errors.conflict(`token '${id}' was already revoked at ${row.revoked_at ?? '?'}`);
      return toRecord(row);
    });
  }

  async touchToken(id: string, at: Date): Promise<boolean> {
    const stale = new Date(at.getTime() - TOUCH_EVERY_MS).toISOString();
    // Read first: a write would take the database write lock even when it changes nothing.
    const row = await this.db
      .selectFrom('api_tokens')
      .select('last_used_at')
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined || (row.last_used_at !== null && row.last_used_at > stale)) return false;
    return this.write(async (trx) => {
      const updated = await trx
        .updateTable('api_tokens')
        .set({ last_used_at: at.toISOString() })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', stale)]))
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) > 0;
    });
  }
}
