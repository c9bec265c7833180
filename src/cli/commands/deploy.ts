/**
 * `tend deploy`: an endpoint's routes from the command line — canary, shadow, experiment, promote,
 * rollback, status, history. Changes are written to the registry; a running server applies them
 * within a second, once every version they name is loaded and warm.
 */
import {
  promotedRoutes,
  rolledBackRoutes,
  type CanaryPolicy,
  type DeploymentRoutesInput,
} from '../../core/deployment.js';
import { parseDuration } from '../../core/duration.js';
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

/** Where the routes start from: the stored ones, or a champion-only start and why that champion. */
interface StartingRoutes {
  routes: DeploymentRoutesInput;
  revision: number | null;
  /** Set for a champion-only start: how the champion was chosen, as the command prints it. */
  championNote?: string;
}

/**
 * The current routes, or a champion-only start for an endpoint without a deployment: the `champion`
 * alias when set, else the version serving before the candidates — the highest version that is not
 * archived and not one of them (with v1 and v2 pushed, `canary dm@2` compares v2 with v1).
 */
async function currentRoutes(
  registry: Registry,
  endpoint: string,
  candidateRefs: readonly string[],
  action: 'canary' | 'shadow' | 'experiment',
): Promise<StartingRoutes> {
  const record = await registry.deployments.get(endpoint);
  if (record) return { routes: record.routes, revision: record.revision };
  const aliases = await registry.models.listAliases(endpoint);
  if (aliases['champion'] !== undefined)
    return {
      routes: { champion: 'champion' },
      revision: null,
      championNote: `${endpoint}@${aliases['champion']} (the champion alias)`,
    };
  const candidates = new Set<number>();
  for (const ref of candidateRefs)
    candidates.add((await registry.models.resolveVersion(endpoint, ref)).version);
  const ready = (await registry.models.listVersions(endpoint))
    .filter((v) => !v.archived)
    .map((v) => v.version)
    .sort((a, b) => b - a);
  const before = ready.find((v) => !candidates.has(v));
  // An experiment's variants take every request, so its champion may be one of them; a canary or a
  // shadow compares with a champion that is not itself.
  const champion = before ?? (action === 'experiment' ? ready[0] : undefined);
  if (champion === undefined) {
    const named = [...candidates].sort((a, b) => a - b).join(', ');
    throw errors.invalidArgument(
      `'${endpoint}' has no version to serve beside ${named}: the champion answers the rest of the traffic — ` +
        `push another version, or set the champion alias (tend alias set ${endpoint} champion VERSION)`,
    );
  }
  const note =
    before === undefined
      ? `${endpoint}@${champion} (the highest ready version)`
      : candidates.size > 0
        ? `${endpoint}@${champion} (serving before ${[...candidates].sort((a, b) => a - b).join(', ')})`
        : `${endpoint}@${champion} (the highest ready version)`;
  return { routes: { champion: String(champion) }, revision: null, championNote: note };
}

/** The share of requests each route answers, for the one-line summary. */
function summary(endpoint: string, routes: DeploymentRoutesInput, championNote?: string): string {
  const ref = (r: string | number) => `${endpoint}@${r}`;
  const champion = championNote ?? ref(routes.champion);
  const parts: string[] = [];
  if (routes.experiment) {
    const total = routes.experiment.variants.reduce((sum, v) => sum + v.weight, 0);
    parts.push(`champion: ${champion} (answers none while the experiment runs)`);
    for (const v of routes.experiment.variants)
      parts.push(`variant: ${ref(v.version)} ${percentText(total > 0 ? (100 * v.weight) / total : 0)}`);
    if (routes.experiment.sticky_by) parts.push(`sticky by ${routes.experiment.sticky_by}`);
  } else if (routes.canary) {
    parts.push(`champion: ${champion} ${percentText(100 - routes.canary.percent)}`);
    parts.push(`canary: ${ref(routes.canary.version)} ${percentText(routes.canary.percent)}`);
  } else {
    parts.push(`champion: ${champion} 100%`);
  }
  if (routes.shadow) parts.push(`shadow: ${ref(routes.shadow.version)} (mirrored, never answers)`);
  return parts.join(', ');
}

function percentText(p: number): string {
  return `${Number(p.toFixed(2))}%`;
}

function show(
  record: { endpoint: string; routes: DeploymentRoutesInput; revision: number },
  json: boolean | undefined,
  championNote?: string,
): void {
  if (json) {
    printJson(record);
    return;
  }
  process.stdout.write(`${record.endpoint} (revision ${record.revision})\n`);
  process.stdout.write(`${summary(record.endpoint, record.routes, championNote)}\n`);
  const policy = record.routes.canary?.policy;
  if (policy && Object.keys(policy).length > 0)
    process.stdout.write(
      `canary policy: ${Object.entries(policy)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}\n`,
    );
}

async function write(
  opts: DeployOptions,
  endpoint: string,
  action: 'canary' | 'shadow' | 'experiment',
  candidateRefs: readonly string[],
  change: (current: DeploymentRoutesInput) => DeploymentRoutesInput,
): Promise<void> {
  const { record, championNote } = await withRegistry(opts.home, async (registry) => {
    const start = await currentRoutes(registry, endpoint, candidateRefs, action);
    const written = await registry.deployments.put(endpoint, change(start.routes), {
      action,
      expectedRevision: start.revision,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    });
    return { record: written, championNote: start.championNote };
  });
  show(record, opts.json, championNote);
}

/** The canary policy flags of `tend deploy canary`, named as the policy keys. */
export interface CanaryPolicyOptions {
  minRequests?: number;
  maxErrorRateIncrease?: number;
  maxP99Ratio?: number;
  promoteAfterRequests?: number;
  promoteAfter?: string;
  qualityMetric?: string;
  maxQualityDrop?: number;
  minLabelled?: number;
  /** false with --no-auto-rollback. */
  autoRollback?: boolean;
}

/** The policy object the flags give, or undefined when none is set (the server's defaults apply). */
export function canaryPolicy(opts: CanaryPolicyOptions): CanaryPolicy | undefined {
  const policy: CanaryPolicy = {};
  if (opts.autoRollback === false) policy.auto_rollback = false;
  if (opts.minRequests !== undefined) policy.min_requests = opts.minRequests;
  if (opts.maxErrorRateIncrease !== undefined) policy.max_error_rate_increase = opts.maxErrorRateIncrease;
  if (opts.maxP99Ratio !== undefined) policy.max_p99_ratio = opts.maxP99Ratio;
  if (opts.promoteAfterRequests !== undefined) policy.promote_after_requests = opts.promoteAfterRequests;
  if (opts.promoteAfter !== undefined)
    policy.promote_after_seconds =
      parseDuration(opts.promoteAfter, { what: '--promote-after', plainSeconds: true, minMs: 1 }) / 1000;
  // The registry validates the routes it writes: a metric not in the list is refused there, by name.
  if (opts.qualityMetric !== undefined)
    policy.quality_metric = opts.qualityMetric as NonNullable<CanaryPolicy['quality_metric']>;
  if (opts.maxQualityDrop !== undefined) policy.max_quality_drop = opts.maxQualityDrop;
  if (opts.minLabelled !== undefined) policy.min_labelled = opts.minLabelled;
  return Object.keys(policy).length > 0 ? policy : undefined;
}

export async function deployCanaryCommand(
  endpoint: string,
  ref: string,
  opts: DeployOptions & CanaryPolicyOptions & { percent: number },
): Promise<void> {
  const version = versionRef(endpoint, ref);
  const policy = canaryPolicy(opts);
  await write(opts, endpoint, 'canary', [version], (c) => {
    const { experiment: _dropped, ...rest } = c;
    return {
      ...rest,
      canary: { version, percent: opts.percent, ...(policy ? { policy } : {}) },
    };
  });
}

export async function deployShadowCommand(endpoint: string, ref: string, opts: DeployOptions): Promise<void> {
  const version = versionRef(endpoint, ref);
  await write(opts, endpoint, 'shadow', [version], (c) => ({ ...c, shadow: { version } }));
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
  await write(
    opts,
    endpoint,
    'experiment',
    parsed.map((p) => p.version),
    (c) => {
      const { canary: _dropped, ...rest } = c;
      return {
        ...rest,
        experiment: {
          variants: parsed,
          ...(opts.stickyBy !== undefined ? { sticky_by: opts.stickyBy } : {}),
        },
      };
    },
  );
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
