/** Alias rows and their history, written inside a store's write transaction. */
import type { Kysely, Transaction } from 'kysely';
import type { RegistryDatabase } from './schema.js';
import type { AliasChange } from './store.js';

type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>;

/** Add the next entry (seq = last + 1) to an alias's history. */
export async function appendHistory(
  trx: Transaction<RegistryDatabase>,
  name: string,
  alias: string,
  move: { from: number | null; to: number | null; actor: string; at: string },
): Promise<void> {
  const last = await trx
    .selectFrom('alias_history')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('model_name', '=', name)
    .where('alias', '=', alias)
    .executeTakeFirst();
  await trx
    .insertInto('alias_history')
    .values({
      model_name: name,
      alias,
      seq: Number(last?.seq ?? 0) + 1,
      from_version: move.from,
      to_version: move.to,
      actor: move.actor,
      at: move.at,
    })
    .execute();
}

/** The version an alias points at, or null. */
export async function aliasVersion(db: Db, name: string, alias: string): Promise<number | null> {
  const row = await db
    .selectFrom('model_aliases')
    .select('version')
    .where('model_name', '=', name)
    .where('alias', '=', alias)
    .executeTakeFirst();
  return row === undefined ? null : Number(row.version);
}

/** Point an alias at a version and record the move; pointing it where it already is records nothing. */
export async function moveAlias(
  trx: Transaction<RegistryDatabase>,
  name: string,
  alias: string,
  version: number,
  actor: string,
  at: string,
): Promise<AliasChange> {
  const from = await aliasVersion(trx, name, alias);
  if (from === version) return { from, to: version }; // not a move: no history row
  if (from === null) {
    await trx
      .insertInto('model_aliases')
      .values({ model_name: name, alias, version, updated_at: at, updated_by: actor })
      .execute();
  } else {
    await trx
      .updateTable('model_aliases')
      .set({ version, updated_at: at, updated_by: actor })
      .where('model_name', '=', name)
      .where('alias', '=', alias)
      .execute();
  }
  await appendHistory(trx, name, alias, { from, to: version, actor, at });
  return { from, to: version };
}
