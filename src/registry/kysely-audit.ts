/** AuditStore over the registry database (security-schema.ts): inserts and reads, nothing else. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { errors } from '../core/errors.js';
import type { AuditEntry, AuditOutcome, AuditQuery, AuditRecord, AuditStore } from './audit-store.js';
import type { RegistryDatabase } from './schema.js';
import type { AuditLogTable } from './security-schema.js';
import { now } from './version-rows.js';

type Write = <T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>) => Promise<T>;

const ACTION = /^[a-z][a-z0-9_.:-]{0,63}$/;
const OUTCOMES: readonly AuditOutcome[] = ['ok', 'denied', 'failed'];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const DEFAULT_LIMIT = 100;

function toRecord(row: Selectable<AuditLogTable>): AuditRecord {
  return {
    seq: Number(row.seq),
    at: row.at,
    actor: row.actor,
    source: row.source,
    action: row.action,
    target: row.target,
    before: row.before === null ? null : (JSON.parse(row.before) as unknown),
    after: row.after === null ? null : (JSON.parse(row.after) as unknown),
    outcome: row.outcome as AuditOutcome,
    detail: row.detail,
  };
}

function assertText(what: string, value: unknown, maxLength: number): asserts value is string {
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw errors.invalidArgument(
      `audit ${what} must be a non-empty string of at most ${maxLength} characters`,
    );
  }
}

function stateJson(what: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw errors.invalidArgument(`audit ${what} cannot be stored as JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw errors.invalidArgument(`audit ${what} cannot be stored as JSON`);
  return text;
}

/** The first string after every string that starts with `prefix` (for a portable prefix range). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

type AuditRow = Omit<Selectable<AuditLogTable>, 'seq'>;

/** Check an entry and make its row (the time is now). @throws TendError TEND_INVALID_ARGUMENT */
export function auditRow(entry: AuditEntry): AuditRow {
  assertText('actor', entry.actor, 128);
  assertText('source', entry.source, 256);
  if (typeof entry.action !== 'string' || !ACTION.test(entry.action)) {
    throw errors.invalidArgument(
      `audit action '${String(entry.action)}' must be lower-case letters, digits, '.', '_', ':' or '-' (at most 64)`,
    );
  }
  const target = entry.target ?? null;
  if (target !== null) assertText('target', target, 1024);
  const outcome = entry.outcome ?? 'ok';
  if (!OUTCOMES.includes(outcome))
    throw errors.invalidArgument(`audit outcome '${String(outcome)}' must be one of ${OUTCOMES.join(', ')}`);
  const detail = entry.detail ?? null;
  if (detail !== null && typeof detail !== 'string')
    throw errors.invalidArgument('audit detail must be a string');
  return {
    at: now(),
    actor: entry.actor,
    source: entry.source,
    action: entry.action,
    target,
    before: stateJson('before', entry.before),
    after: stateJson('after', entry.after),
    outcome,
    detail,
  };
}

/**
 * Append a row inside a transaction the caller holds, so that an entry saying 'ok' commits with
 * the work it describes, or not at all (the registry's push does this).
 */
export async function insertAuditRow(
  trx: Transaction<RegistryDatabase>,
  row: AuditRow,
): Promise<AuditRecord> {
  const inserted = await trx.insertInto('audit_log').values(row).returning('seq').executeTakeFirstOrThrow();
  return toRecord({ ...row, seq: Number(inserted.seq) });
}

export class KyselyAudit implements AuditStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly write: Write,
  ) {}

  async appendAudit(entry: AuditEntry): Promise<AuditRecord> {
    const row = auditRow(entry);
    return this.write((trx) => insertAuditRow(trx, row));
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw errors.invalidArgument('limit must be a positive integer');
    let since: string | undefined;
    if (query.since !== undefined) {
      const time =
        typeof query.since === 'string' && ISO_TIME.test(query.since) ? new Date(query.since) : null;
      if (time === null || Number.isNaN(time.getTime())) {
        throw errors.invalidArgument(
          `since '${String(query.since)}' must be an ISO-8601 UTC time such as 2025-01-31T12:00:00Z`,
        );
      }
      // Stored times are toISOString() output: the same instant written that way compares as text.
      since = time.toISOString();
    }
    if (query.beforeSeq !== undefined && !Number.isSafeInteger(query.beforeSeq))
      throw errors.invalidArgument('beforeSeq must be an integer');
    let select = this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(limit);
    if (since !== undefined) select = select.where('at', '>=', since);
    if (query.beforeSeq !== undefined) select = select.where('seq', '<', query.beforeSeq);
    if (query.action !== undefined) {
      if (query.action.endsWith('.*') && query.action.length > 2) {
        const prefix = query.action.slice(0, -1);
        select = select.where('action', '>=', prefix).where('action', '<', prefixEnd(prefix));
      } else {
        select = select.where('action', '=', query.action);
      }
    }
    if (query.target !== undefined) select = select.where('target', '=', query.target);
    if (query.actor !== undefined) select = select.where('actor', '=', query.actor);
    return (await select.execute()).map(toRecord);
  }
}
