/**
 * The one audit helper of the engine: run a management action the engine does itself (the
 * registry audits its own: push, alias moves, deployments, tokens) and append its outcome to the
 * audit log. The actor and source come from the request context (the HTTP or gRPC caller); an
 * action with no caller — the server's own start-up or a CLI command in process — is recorded as
 * actor `local`, source `local`.
 */
import { toTendError } from '../../core/errors.js';
import { currentContext } from '../../core/request-context.js';
import type { AuditEntry } from '../../registry/index.js';

/** Where audit entries go (the registry's audit log). */
export interface AuditLog {
  append(entry: AuditEntry): Promise<unknown>;
}

/** Who an action is recorded for when no request context names a caller. */
export const LOCAL_CALLER = { actor: 'local', source: 'local' } as const;

/**
 * Run `work` as the audited action `action` on `target`: its outcome is logged (with `detail` of its
 * result when given), its error rethrown.
 */
export async function auditedAction<T>(
  log: AuditLog,
  action: string,
  target: string,
  work: () => Promise<T>,
  detail?: (result: T) => string,
): Promise<T> {
  const context = currentContext();
  const who = {
    actor: context?.actor ?? LOCAL_CALLER.actor,
    source: context?.source ?? LOCAL_CALLER.source,
    action,
    target,
  };
  try {
    const result = await work();
    await log.append({ ...who, outcome: 'ok', ...(detail === undefined ? {} : { detail: detail(result) }) });
    return result;
  } catch (err) {
    await log
      .append({ ...who, outcome: 'failed', detail: toTendError(err).message.slice(0, 500) })
      .catch(() => undefined);
    throw err;
  }
}
