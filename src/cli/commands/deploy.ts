/**
 * `tend deploy`: an endpoint's routes from the command line — canary, shadow, experiment, promote,
 * rollback, status, history. Changes are written to the registry; a running server applies them
 * within a second, once every version they name is loaded and warm.
 */
import { promotedRoutes, rolledBackRoutes, type DeploymentRoutesInput } from '../../core/deployment.js';
import { errors } from '../../core/errors.js';
import { printJson, printTable } from '../output.js';
import { parseRef, withRegistry, type Registry } from './registry.js';

interface DeployOptions {
  home?: string;
  json?: boolean;
  reason?: string;
}

/** A version ref of the endpoint: `2`, `staging`, or `ENDPOINT@2`. */
function versionRef(endpoint: string, ref: string): string {
  if (!ref.includes('@')) return ref;
  const parsed = parseRef(ref);
  if (parsed.name !== endpoint)
    throw errors.invalidArgument(
      `'${ref}' is a version of '${parsed.name}', not of the endpoint '${endpoint}'`,
    );
  return parsed.version as string;
}

/** The current routes, or a champion-only start: the `champion` alias when set, else the latest version. */
async function currentRoutes(
  registry: Registry,
  endpoint: string,
): Promise<DeploymentRoutesInput & { revision: number | null }> {
  const record = await registry.deployments.get(endpoint);
  if (record) return { ...record.routes, revision: record.revision };
  const aliases = await registry.models.listAliases(endpoint);
  if (aliases['champion'] !== undefined) return { champion: 'champion', revision: null };
  return {
    champion: String((await registry.models.resolveVersion(endpoint, 'latest')).version),
    revision: null,
  };
}

function show(
  record: { endpoint: string; routes: unknown; revision: number },
  json: boolean | undefined,
): void {
  if (json) printJson(record);
  else
    process.stdout.write(
      `${record.endpoint} (revision ${record.revision}): ${JSON.stringify(record.routes)}\n`,
    );
}

async function write(
  opts: DeployOptions,
  endpoint: string,
  action: 'canary' | 'shadow' | 'experiment',
  change: (current: DeploymentRoutesInput) => DeploymentRoutesInput,
): Promise<void> {
  const record = await withRegistry(opts.home, async (registry) => {
    const { revision, ...current } = await currentRoutes(registry, endpoint);
    return registry.deployments.put(endpoint, change(current), {
      action,
      expectedRevision: revision,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    });
  });
  show(record, opts.json);
}

export async function deployCanaryCommand(
  endpoint: string,
  ref: string,
  opts: DeployOptions & { percent: number },
): Promise<void> {
  await write(opts, endpoint, 'canary', (c) => {
    const { experiment: _dropped, ...rest } = c;
    return { ...rest, canary: { version: versionRef(endpoint, ref), percent: opts.percent } };
  });
}

export async function deployShadowCommand(endpoint: string, ref: string, opts: DeployOptions): Promise<void> {
  await write(opts, endpoint, 'shadow', (c) => ({ ...c, shadow: { version: versionRef(endpoint, ref) } }));
}

export async function deployExperimentCommand(
  endpoint: string,
  variants: string[],
  opts: DeployOptions & { stickyBy?: string },
): Promise<void> {
  const parsed = variants.map((v) => {
    const eq = v.lastIndexOf('=');
    const weight = Number(v.slice(eq + 1));
    if (eq <= 0 || v.slice(eq + 1) === '' || !Number.isFinite(weight))
      throw errors.invalidArgument(`'${v}' must look like REF=WEIGHT, e.g. ${endpoint}@2=50`);
    return { version: versionRef(endpoint, v.slice(0, eq)), weight };
  });
  await write(opts, endpoint, 'experiment', (c) => {
    const { canary: _dropped, ...rest } = c;
    return {
      ...rest,
      experiment: { variants: parsed, ...(opts.stickyBy !== undefined ? { sticky_by: opts.stickyBy } : {}) },
    };
  });
}

/** Promote or roll back: the same route changes as the server's API. */
async function transition(
  endpoint: string,
  opts: DeployOptions,
  action: 'promote' | 'rollback',
): Promise<void> {
  const record = await withRegistry(opts.home, async (registry) => {
    const current = await registry.deployments.get(endpoint);
    if (!current) throw errors.deploymentNotFound(endpoint);
    const next =
      action === 'promote'
        ? promotedRoutes(endpoint, current.routes)
        : rolledBackRoutes(endpoint, current.routes);
    return registry.deployments.put(endpoint, next, {
      action,
      expectedRevision: current.revision,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    });
  });
  show(record, opts.json);
}

export function deployPromoteCommand(endpoint: string, opts: DeployOptions): Promise<void> {
  return transition(endpoint, opts, 'promote');
}

export function deployRollbackCommand(endpoint: string, opts: DeployOptions): Promise<void> {
  return transition(endpoint, opts, 'rollback');
}

export async function deployStatusCommand(endpoint: string, opts: DeployOptions): Promise<void> {
  const record = await withRegistry(opts.home, (registry) => registry.deployments.get(endpoint));
  if (!record) throw errors.deploymentNotFound(endpoint);
  show(record, opts.json);
}

export async function deployHistoryCommand(endpoint: string, opts: DeployOptions): Promise<void> {
  const history = await withRegistry(opts.home, (registry) => registry.deployments.history(endpoint));
  if (opts.json) {
    printJson(history);
    return;
  }
  printTable(
    ['#', 'at', 'actor', 'action', 'routes', 'reason'],
    history.map((h) => [
      String(h.id),
      h.at,
      h.actor,
      h.action,
      h.after ? JSON.stringify(h.after) : '(removed)',
      h.reason ?? '',
    ]),
  );
}
