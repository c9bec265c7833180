/**
 * The one way the registry's facades audit what they do: who acts (the request's caller, else the
 * registry's actor), from where, on what, before/after, and whether it worked. Every facade that
 * changes something goes through `audited`; push builds its own 'ok' entry because it commits in
 * the version's transaction, and records failures here.
 */
import { currentContext } from '../core/request-context.js';
import type { AuditEntry, AuditStore } from './audit-store.js';

/** What an audited action's result says about the change. */
export interface AuditDescription {
  before?: unknown;
  after?: unknown;
  detail?: string;
}

export class AuditTrail {
  constructor(
    private readonly log: AuditStore,
    /** Who acts when no request set a caller (the OS user, or RegistryOptions.actor). */
    readonly actor: string,
  ) {}

  /** Who acts now: the frontend's caller (token id) when a request set one, else the registry's actor. */
  actorNow(): string {
    return currentContext()?.actor ?? this.actor;
  }

  /** Who acts, from where, doing what to what: the part of an audit entry known before the work. */
  subject(action: string, target: string | null): AuditEntry {
    const context = currentContext();
    return {
      actor: context?.actor ?? this.actor,
      source: context?.source ?? 'cli',
      action,
      ...(target !== null ? { target } : {}),
    };
  }

  /** Record a failed action; an audit log that cannot be written must not hide the action's own error. */
  async failed(subject: AuditEntry, err: unknown): Promise<void> {
    await this.log
      .appendAudit({
        ...subject,
        outcome: 'failed',
        detail: String((err as Error).message ?? err).slice(0, 500),
      })
      .catch(() => undefined);
  }

  /**
   * Run a management action and append it to the audit log (append-only): who, from where, what,
   * on what, before/after, and whether it worked. A failed action is recorded as failed and rethrown.
   */
  async audited<T>(
    action: string,
    target: string | null,
    work: () => Promise<T>,
    describe?: (result: T) => AuditDescription,
  ): Promise<T> {
    const who = this.subject(action, target);
    let result: T;
    try {
      result = await work();
    } catch (err) {
      await this.failed(who, err);
      throw err;
    }
    await this.log.appendAudit({ ...who, outcome: 'ok', ...(describe ? describe(result) : {}) });
    return result;
  }
}
