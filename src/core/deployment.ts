/**
 * Deployments as data: the routes of an endpoint (a model name) say which versions answer its
 * traffic. The config file, the CLI and the REST API all produce this one object; the registry
 * stores it with its history and the engine routes by it.
 *
 * Version refs are strings (a version number or an alias, resolved at serve time); JSON and YAML
 * may write a number, which is normalized to its string. Keys stay snake_case: the object leaves
 * the process as it is.
 */
import { z } from 'zod';
import { QUALITY_METRICS } from './alert-rules.js';
import { describeIssues } from './config.js';
import { errors, FIX_IN_MESSAGE } from './errors.js';
import { MAX_HEADER_NAME_BYTES } from './input-limits.js';
import type { ModelSignature, TensorSpec } from './signature.js';

// The alias syntax of the registry (registry/names.ts), repeated here because core sits below it;
// whether the alias exists is checked by the registry when the routes are written.
const ALIAS_SYNTAX = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
// RFC 9110 token characters: what an HTTP header name may contain.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const REF_HINT = "a version number (1, 2, ...), 'latest' or an alias name";

/** A version number or an alias; numbers written as JSON/YAML numbers become their string. */
export const VersionRefSchema = z
  .union([z.string(), z.number()], {
    error: (issue) => (issue.input === undefined ? `missing: give ${REF_HINT}` : `expected ${REF_HINT}`),
  })
  .transform((value, ctx): string => {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value) && value >= 1) return String(value);
      ctx.addIssue({ code: 'custom', message: `version ${value} is not a positive integer`, input: value });
      return z.NEVER;
    }
    if (/^[0-9]+$/.test(value)) {
      const version = Number(value);
      if (Number.isSafeInteger(version) && version >= 1) return String(version); // '007' → '7'
      ctx.addIssue({ code: 'custom', message: `version '${value}' is not a positive integer`, input: value });
      return z.NEVER;
    }
    if (value.toLowerCase() === 'latest') return 'latest';
    if (ALIAS_SYNTAX.test(value)) return value;
    ctx.addIssue({ code: 'custom', message: `'${value}' is not ${REF_HINT}`, input: value });
    return z.NEVER;
  });

/** Messages for an object schema: unknown keys name the allowed ones; a non-object says what was expected. */
function strictFields(what: string, fields: string) {
  return {
    error: (issue: { code?: string; keys?: readonly string[] }): string | undefined => {
      if (issue.code === 'unrecognized_keys') {
        const keys = (issue.keys ?? []).map((k) => `'${k}'`).join(', ');
        return `unknown field${(issue.keys?.length ?? 0) > 1 ? 's' : ''} ${keys} in ${what} (allowed: ${fields})`;
      }
      if (issue.code === 'invalid_type') return `${what} must be an object with ${fields}`;
      return undefined;
    },
  };
}

/** When the server rolls a canary back, or promotes it, on its own. Absent fields take the defaults. */
export const CanaryPolicySchema = z.strictObject(
  {
    auto_rollback: z
      .boolean()
      .optional()
      .describe('Roll back a canary that errs or slows down past the thresholds (default true)'),
    min_requests: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Canary requests before any automatic decision (default 100)'),
    max_error_rate_increase: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("Canary error rate minus the champion's above which it is rolled back (default 0.05)"),
    max_p99_ratio: z
      .number()
      .min(1)
      .optional()
      .describe(
        "Canary p99 latency over the champion's above which it is rolled back (default: no latency rule)",
      ),
    promote_after_requests: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Promote once the canary answered this many requests within bounds'),
    promote_after_seconds: z
      .number()
      .positive()
      .optional()
      .describe('…and has run this long (both must hold when both are given)'),
    quality_metric: z
      .enum(QUALITY_METRICS, {
        error: `canary.policy.quality_metric must be one of ${QUALITY_METRICS.join(', ')}`,
      })
      .optional()
      .describe(
        'Roll back on ground truth: the quality metric compared between canary and champion (needs feedback)',
      ),
    max_quality_drop: z
      .number()
      .min(0)
      .optional()
      .describe(
        'How much worse than the champion the canary may be on quality_metric (absolute, e.g. 0.02; default 0.02)',
      ),
    min_labelled: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Labelled predictions each side needs before the quality rule applies (default 100)'),
  },
  strictFields(
    'canary.policy',
    'auto_rollback, min_requests, max_error_rate_increase, max_p99_ratio, promote_after_requests, promote_after_seconds, quality_metric, max_quality_drop, min_labelled',
  ),
);

export const CanaryRouteSchema = z.strictObject(
  {
    version: VersionRefSchema.describe('The canary version: a version number or an alias'),
    percent: z
      .number({ error: 'canary.percent must be a number from 0 to 100' })
      .min(0, { error: 'canary.percent must be between 0 and 100' })
      .max(100, { error: 'canary.percent must be between 0 and 100' })
      .describe(
        'Share of requests (0-100) the canary answers; the same request id always gets the same answer',
      ),
    policy: CanaryPolicySchema.optional().describe('Automatic rollback and promotion'),
  },
  strictFields('canary', 'version, percent, policy'),
);

export const ShadowRouteSchema = z.strictObject(
  {
    version: VersionRefSchema.describe(
      'Receives a copy of every request; its answers are compared, never returned',
    ),
  },
  strictFields('shadow', 'version'),
);

export const ExperimentVariantSchema = z.strictObject(
  {
    version: VersionRefSchema,
    weight: z
      .number({ error: 'a variant weight must be a finite number >= 0' })
      .min(0, { error: 'a variant weight must be >= 0' })
      .describe('Relative share of requests; 0 takes none'),
  },
  strictFields('an experiment variant', 'version, weight'),
);

export const ExperimentRouteSchema = z
  .strictObject(
    {
      variants: z.array(ExperimentVariantSchema, {
        error: 'experiment.variants must be a list of {version, weight}',
      }),
      sticky_by: z
        .string({ error: 'experiment.sticky_by must be a header name' })
        .max(MAX_HEADER_NAME_BYTES, {
          error: `experiment.sticky_by must be a header name of at most ${MAX_HEADER_NAME_BYTES} characters`,
        })
        .regex(HEADER_NAME, {
          error: 'experiment.sticky_by must be an HTTP header name (letters, digits, -, _ ...)',
        })
        .transform((name) => name.toLowerCase())
        .optional()
        .describe('A header name: requests with the same value of it land on the same variant'),
    },
    strictFields('experiment', 'variants, sticky_by'),
  )
  .superRefine((experiment, ctx) => {
    if (experiment.variants.length < 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['variants'],
        message: 'an experiment needs at least 2 variants',
      });
      return;
    }
    const total = experiment.variants.reduce((sum, v) => sum + v.weight, 0);
    if (!(total > 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['variants'],
        message: 'the variant weights must sum to more than 0',
      });
    }
    const seen = new Set<string>();
    experiment.variants.forEach((variant, i) => {
      if (seen.has(variant.version)) {
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'version'],
          message: `version '${variant.version}' appears in two variants; give each version one variant and one weight`,
        });
      }
      seen.add(variant.version);
    });
  });

export const DeploymentRoutesSchema = z
  .strictObject(
    {
      champion: VersionRefSchema.describe(
        'The version or alias that answers every request no other route takes',
      ),
      canary: CanaryRouteSchema.optional().describe('A share of the traffic to another version'),
      shadow: ShadowRouteSchema.optional().describe('A version that receives mirrored requests'),
      experiment: ExperimentRouteSchema.optional().describe(
        'An A/B split between weighted variants (not with a canary)',
      ),
    },
    strictFields('routes', 'champion, canary, shadow, experiment'),
  )
  .superRefine((routes, ctx) => {
    if (routes.canary !== undefined && routes.experiment !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['experiment'],
        message:
          'canary and experiment cannot be combined: both divide the live traffic between versions, so which ' +
          'share a request falls in would be ambiguous; promote or roll back the canary first',
      });
    }
    if (routes.canary !== undefined && routes.canary.version === routes.champion) {
      ctx.addIssue({
        code: 'custom',
        path: ['canary', 'version'],
        message: `the canary '${routes.canary.version}' is the champion itself; name another version`,
      });
    }
    if (routes.shadow !== undefined && routes.shadow.version === routes.champion) {
      ctx.addIssue({
        code: 'custom',
        path: ['shadow', 'version'],
        message: `the shadow '${routes.shadow.version}' is the champion itself; comparing it with itself tells nothing`,
      });
    }
  });

/** Routes as stored and returned (refs normalized to strings, sticky_by lower-cased). */
export type DeploymentRoutes = z.output<typeof DeploymentRoutesSchema>;
/** Routes as a user may write them (refs may be numbers). */
export type DeploymentRoutesInput = z.input<typeof DeploymentRoutesSchema>;
export type CanaryRoute = z.output<typeof CanaryRouteSchema>;
export type CanaryPolicy = z.output<typeof CanaryPolicySchema>;
export type ShadowRoute = z.output<typeof ShadowRouteSchema>;
export type ExperimentRoute = z.output<typeof ExperimentRouteSchema>;
export type ExperimentVariant = z.output<typeof ExperimentVariantSchema>;

/**
 * Validate and normalize routes.
 * @throws TendError TEND_INVALID_ARGUMENT naming every problem (`canary.percent: ...; experiment: ...`).
 * @example parseDeploymentRoutes({ champion: 3, canary: { version: 'challenger', percent: 10 } })
 */
export function parseDeploymentRoutes(value: unknown, source = 'routes'): DeploymentRoutes {
  const result = DeploymentRoutesSchema.safeParse(value);
  if (!result.success) throw errors.invalidArgument(`invalid ${source}: ${describeIssues(result.error)}`);
  return result.data;
}

/** Routes with every ref resolved to a version number: what the engine routes by. */
export interface ResolvedRoutes {
  champion: number;
  canary?: { version: number; percent: number; policy?: CanaryPolicy };
  shadow?: { version: number };
  experiment?: { variants: { version: number; weight: number }[]; sticky_by?: string };
}

export type RouteName = 'champion' | 'canary' | 'shadow' | 'experiment';

/** One place a version ref appears in the routes; `variant` indexes experiment.variants. */
export interface RouteRef {
  route: RouteName;
  ref: string;
  variant?: number;
}

/** Every version ref in the routes, champion first. */
export function routeRefs(routes: DeploymentRoutes): RouteRef[] {
  const refs: RouteRef[] = [{ route: 'champion', ref: routes.champion }];
  if (routes.canary !== undefined) refs.push({ route: 'canary', ref: routes.canary.version });
  if (routes.shadow !== undefined) refs.push({ route: 'shadow', ref: routes.shadow.version });
  routes.experiment?.variants.forEach((v, variant) =>
    refs.push({ route: 'experiment', ref: v.version, variant }),
  );
  return refs;
}

/**
 * Replace every ref by its version number.
 * @example resolveRoutes(routes, (ref) => versionsByRef.get(ref)!)
 */
export function resolveRoutes(routes: DeploymentRoutes, resolve: (ref: string) => number): ResolvedRoutes {
  const resolved: ResolvedRoutes = { champion: resolve(routes.champion) };
  if (routes.canary !== undefined) {
    resolved.canary = { version: resolve(routes.canary.version), percent: routes.canary.percent };
    if (routes.canary.policy !== undefined) resolved.canary.policy = routes.canary.policy;
  }
  if (routes.shadow !== undefined) resolved.shadow = { version: resolve(routes.shadow.version) };
  if (routes.experiment !== undefined) {
    const { variants, sticky_by } = routes.experiment;
    resolved.experiment = {
      variants: variants.map((v) => ({ version: resolve(v.version), weight: v.weight })),
    };
    if (sticky_by !== undefined) resolved.experiment.sticky_by = sticky_by;
  }
  return resolved;
}

/** What changed a deployment; automatic actions start with `auto_`. */
export const DEPLOYMENT_ACTIONS = [
  'put',
  'config',
  'canary',
  'shadow',
  'experiment',
  'promote',
  'rollback',
  'auto_rollback',
  'auto_promote',
  'delete',
] as const;

export type DeploymentAction = (typeof DEPLOYMENT_ACTIONS)[number];

export function isDeploymentAction(value: unknown): value is DeploymentAction {
  return typeof value === 'string' && (DEPLOYMENT_ACTIONS as readonly string[]).includes(value);
}

function describeSpec(spec: TensorSpec): string {
  return spec.datatype ?? spec.onnx_type;
}

/**
 * Why a version cannot take traffic meant for the champion, or null when it can: it must take the
 * same inputs (names and datatypes) and return at least the champion's outputs with their datatypes.
 */
export function signatureMismatch(champion: ModelSignature, candidate: ModelSignature): string | null {
  const problems: string[] = [];
  const candidateInputs = new Map(candidate.inputs.map((s) => [s.name, s]));
  const championInputs = new Set(champion.inputs.map((s) => s.name));
  for (const spec of champion.inputs) {
    const other = candidateInputs.get(spec.name);
    if (other === undefined) problems.push(`input '${spec.name}' is missing`);
    else if (describeSpec(other) !== describeSpec(spec)) {
      problems.push(`input '${spec.name}' is ${describeSpec(other)}, not ${describeSpec(spec)}`);
    }
  }
  for (const spec of candidate.inputs) {
    if (!championInputs.has(spec.name)) problems.push(`it takes an extra input '${spec.name}'`);
  }
  const candidateOutputs = new Map(candidate.outputs.map((s) => [s.name, s]));
  for (const spec of champion.outputs) {
    const other = candidateOutputs.get(spec.name);
    if (other === undefined) problems.push(`output '${spec.name}' is missing`);
    else if (describeSpec(other) !== describeSpec(spec)) {
      problems.push(`output '${spec.name}' is ${describeSpec(other)}, not ${describeSpec(spec)}`);
    }
  }
  return problems.length === 0 ? null : problems.join('; ');
}

/**
 * The routes after a promote: the canary becomes the champion (a shadow stays).
 * @throws TendError TEND_CONFLICT when there is no canary (an experiment needs its winner named).
 */
export function promotedRoutes(endpoint: string, routes: DeploymentRoutes): DeploymentRoutes {
  if (routes.experiment) {
    throw errors.conflict(
      `'${endpoint}' runs an experiment: put routes with the winning variant as champion instead`,
      FIX_IN_MESSAGE,
    );
  }
  if (!routes.canary) throw errors.conflict(`'${endpoint}' has no canary to promote`);
  return { champion: routes.canary.version, ...(routes.shadow ? { shadow: routes.shadow } : {}) };
}

/**
 * The routes after a rollback: the champion alone (canary, experiment and shadow removed).
 * @throws TendError TEND_CONFLICT when the champion already serves alone.
 */
export function rolledBackRoutes(endpoint: string, routes: DeploymentRoutes): DeploymentRoutes {
  if (!routes.canary && !routes.experiment && !routes.shadow) {
    throw errors.conflict(`'${endpoint}' serves its champion only: nothing to roll back`);
  }
  return { champion: routes.champion };
}
