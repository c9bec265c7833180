/**
 * The stores of records that live beside the models in the registry database — training runs, API
 * tokens, the audit log — made from the owning store so they share its connection and write queue.
 */
import { errors } from '../core/errors.js';
import type { AuditStore } from './audit-store.js';
import { KyselyAudit } from './kysely-audit.js';
import { KyselyRuns } from './kysely-runs.js';
import { KyselyRegistryStore } from './kysely-store.js';
import { KyselyTokens } from './kysely-tokens.js';
import type { RunStore } from './run-store.js';
import type { RegistryStore } from './store.js';
import type { TokenStore } from './token-store.js';

export interface RecordStores {
  runs: RunStore;
  tokens: TokenStore;
  audit: AuditStore;
}

/** @throws TendError TEND_INTERNAL when the store is not database-backed (a test double). */
export function openRecordStores(store: RegistryStore): RecordStores {
  if (!(store instanceof KyselyRegistryStore)) {
    throw errors.internal('this registry store keeps no training runs, tokens or audit log (it is not a Kysely store)');
  }
  const write: KyselyRegistryStore['writeTransaction'] = (fn) => store.writeTransaction(fn);
  return {
    runs: new KyselyRuns(store.db, write),
    tokens: new KyselyTokens(store.db, write),
    audit: new KyselyAudit(store.db, write),
  };
}
