/** `registry.audit`: the append-only log of management actions, for writers outside the registry and for readers. */
import type { AuditEntry, AuditQuery, AuditRecord, AuditStore } from './audit-store.js';

/** The audit log of the registry. */
export class RegistryAuditLog {
  constructor(private readonly store: AuditStore) {}

  /** Append a management action to the audit log. @throws TendError TEND_INVALID_ARGUMENT */
  append(entry: AuditEntry): Promise<AuditRecord> {
    return this.store.appendAudit(entry);
  }

  /** Audit entries, newest first (default at most 100). @throws TendError TEND_INVALID_ARGUMENT */
  list(query: AuditQuery = {}): Promise<AuditRecord[]> {
    return this.store.listAudit(query);
  }
}
