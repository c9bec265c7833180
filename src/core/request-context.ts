/**
 * Who is acting, carried through async calls without threading it through every signature: the HTTP
 * and gRPC frontends set it for management calls (token id and client address); the CLI leaves it
 * unset and the registry's own actor applies. The audit log reads it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  /** Token id, 'anonymous' with auth off, or a name such as 'tend' for automatic actions. */
  actor: string;
  /** Client address, or 'cli' / 'tend'. */
  source: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Run `work` (and everything it starts) as `context`. */
export function runWithContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** The context of the current call, if a frontend set one. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}
