/**
 * The audit log of management actions (security-schema.ts): append-only, newest first when read.
 * Records use snake_case keys: they leave the process as JSON unchanged.
 */

export type AuditOutcome = 'ok' | 'denied' | 'failed';

/** An action to record; the store adds its sequence number and time. */
export interface AuditEntry {
  /** A token id, 'local' for the CLI, 'tend' for automatic actions. */
  actor: string;
  /** The client's address, or 'cli'. */
  source: string;
  /** e.g. 'model.push', 'alias.move', 'deployment.update', 'token.revoke', 'gc'. */
  action: string;
  /** e.g. 'digits:3'; omitted or null when the action has no single target. */
  target?: string | null;
  /** The state before and after, as JSON values (null or omitted: none). */
  before?: unknown;
  after?: unknown;
  /** Default 'ok'. */
  outcome?: AuditOutcome;
  detail?: string | null;
}

export interface AuditRecord {
  /** Grows with every entry and is never reused. */
  seq: number;
  at: string;
  actor: string;
  source: string;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  outcome: AuditOutcome;
  detail: string | null;
}

export interface AuditQuery {
  /** Entries at or after this ISO-8601 time. */
  since?: string;
  /** Entries with a smaller seq (paging backwards). */
  beforeSeq?: number;
  /** At most this many (default 100). */
  limit?: number;
  /** An exact action, or a prefix ending in '.*' ('model.*'). */
  action?: string;
  target?: string;
  actor?: string;
}

export interface AuditStore {
  /** Append one entry. @throws TendError TEND_INVALID_ARGUMENT */
  appendAudit(entry: AuditEntry): Promise<AuditRecord>;
  /** Entries, newest first. @throws TendError TEND_INVALID_ARGUMENT */
  listAudit(query?: AuditQuery): Promise<AuditRecord[]>;
}
