/**
 * Who may call what: every HTTP route (as registered in Fastify) and every gRPC method, with the scope
 * it needs and where the model it concerns is named. Policy as data, in one table, so that a test can
 * check that every registered route appears here; a route missing from the table is the caller's
 * to refuse (the server treats it as `admin`, so nothing becomes public by accident).
 *
 * Decisions:
 *   - Public: liveness/readiness (server and per model, so probes need no secret), the dashboard's
 *     static files and the OpenAPI document (the same for every install; it names routes, not models).
 *   - Reading deployments is `read`; changing them is `deploy`.
 *   - A route that spans every model (`/metrics`, the model list, stats of all models) is refused to a
 *     token limited to some models, rather than filtered: the answer would leak the other models' names.
 *   - HEAD is answered as GET (Fastify adds a HEAD route for every GET route).
 */
import { grants, modelGlobMatches, type Scope } from './scopes.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a route or method needs. */
export interface RequiredAccess {
  scope: Scope | 'public';
  /** The route parameter (HTTP) or request field (gRPC) that names the model. */
  modelParam?: string;
  /** The answer covers every model, so a token limited to some models may not call it. */
  allModels?: true;
}

export interface HttpAccessRule extends RequiredAccess {
  method: HttpMethod;
  route: string;
}

export interface GrpcAccessRule extends RequiredAccess {
  method: string;
}

const pub = (method: HttpMethod, route: string): HttpAccessRule => ({ method, route, scope: 'public' });
const model = (method: HttpMethod, route: string, scope: Scope, modelParam = 'model'): HttpAccessRule => ({
  method,
  route,
  scope,
  modelParam,
});
const all = (method: HttpMethod, route: string, scope: Scope): HttpAccessRule => ({
  method,
  route,
  scope,
  allModels: true,
});
const server = (method: HttpMethod, route: string, scope: Scope): HttpAccessRule => ({
  method,
  route,
  scope,
});

/** Every HTTP route, including the ones issues 9 and 10 add (learn, train, runs, tokens, audit, explain). */
export const HTTP_ACCESS_RULES: readonly HttpAccessRule[] = [
  // Health and static assets
  pub('GET', '/v2/health/live'),
  pub('GET', '/v2/health/ready'),
  pub('GET', '/v2/models/:model/ready'),
  pub('GET', '/v2/models/:model/versions/:version/ready'),
  pub('GET', '/'),
  pub('GET', '/dashboard/:file'),
  pub('GET', '/docs'),
  pub('GET', '/docs/openapi.json'),
  // Metadata, statistics, metrics, monitoring, dashboard data
  server('GET', '/v2', 'read'),
  all('GET', '/v2/models', 'read'),
  model('GET', '/v2/models/:model', 'read'),
  model('GET', '/v2/models/:model/versions/:version', 'read'),
  model('GET', '/v2/models/:model/config', 'read'),
  model('GET', '/v2/models/:model/versions/:version/config', 'read'),
  all('GET', '/v2/models/stats', 'read'),
  model('GET', '/v2/models/:model/stats', 'read'),
  model('GET', '/v2/models/:model/versions/:version/stats', 'read'),
  all('GET', '/metrics', 'read'),
  all('POST', '/v2/repository/index', 'read'),
  model('GET', '/v2/models/:model/monitor', 'read'),
  model('GET', '/v2/models/:model/importance', 'read'),
  all('GET', '/api/v1/alerts', 'read'),
  all('GET', '/api/v1/dashboard/models', 'read'),
  model('GET', '/api/v1/dashboard/models/:model/series', 'read'),
  all('GET', '/api/v1/deployments', 'read'),
  model('GET', '/api/v1/deployments/:endpoint', 'read', 'endpoint'),
  model('GET', '/api/v1/deployments/:endpoint/history', 'read', 'endpoint'),
  all('GET', '/api/v1/runs', 'read'),
  all('GET', '/api/v1/runs/:run', 'read'),
  // Inference and explanations
  model('POST', '/v2/models/:model/infer', 'infer'),
  model('POST', '/v2/models/:model/versions/:version/infer', 'infer'),
  model('POST', '/v2/models/:model/explain', 'infer'),
  model('POST', '/v2/models/:model/versions/:version/explain', 'infer'),
  // Ground truth
  model('POST', '/v2/models/:model/feedback', 'feedback'),
  // Changing what serves
  model('POST', '/v2/repository/models/:model/load', 'deploy'),
  model('POST', '/v2/repository/models/:model/unload', 'deploy'),
  model('PUT', '/api/v1/deployments/:endpoint', 'deploy', 'endpoint'),
  model('POST', '/api/v1/deployments/:endpoint/promote', 'deploy', 'endpoint'),
  model('POST', '/api/v1/deployments/:endpoint/rollback', 'deploy', 'endpoint'),
  model('PUT', '/api/v1/models/:name/aliases/:alias', 'deploy', 'name'),
  model('POST', '/v2/models/:model/learn', 'deploy'),
  model('POST', '/v2/models/:model/versions/:version/learn', 'deploy'),
  // The model to train is in the body, so the route as such spans every model.
  all('POST', '/api/v1/train', 'deploy'),
  // Administration
  server('GET', '/api/v1/tokens', 'admin'),
  server('POST', '/api/v1/tokens', 'admin'),
  server('DELETE', '/api/v1/tokens/:id', 'admin'),
  server('GET', '/api/v1/audit', 'admin'),
  // Forgetting logged predictions (privacy); the model is in the body.
  server('DELETE', '/api/v1/prediction-log', 'admin'),
];

const rpc = (
  method: string,
  scope: Scope | 'public',
  extra: Partial<RequiredAccess> = {},
): GrpcAccessRule => ({ method, scope, ...extra });

/**
 * Every method of `inference.GRPCInferenceService`. A model field left empty (ModelStatistics with no
 * name) means every model.
 */
export const GRPC_ACCESS_RULES: readonly GrpcAccessRule[] = [
  rpc('ServerLive', 'public'),
  rpc('ServerReady', 'public'),
  rpc('ModelReady', 'public'),
  rpc('ServerMetadata', 'read'),
  rpc('ModelMetadata', 'read', { modelParam: 'name' }),
  rpc('ModelConfig', 'read', { modelParam: 'name' }),
  rpc('ModelStatistics', 'read', { modelParam: 'name' }),
  rpc('RepositoryIndex', 'read', { allModels: true }),
  rpc('ModelInfer', 'infer', { modelParam: 'model_name' }),
  // Streams name the model in every message: check each one, not only the first.
  rpc('ModelStreamInfer', 'infer', { modelParam: 'model_name' }),
  rpc('RepositoryModelLoad', 'deploy', { modelParam: 'model_name' }),
  rpc('RepositoryModelUnload', 'deploy', { modelParam: 'model_name' }),
];

const GRPC_SERVICE_PREFIX = '/inference.GRPCInferenceService/';

function accessOf(rule: RequiredAccess): RequiredAccess {
  return {
    scope: rule.scope,
    ...(rule.modelParam !== undefined ? { modelParam: rule.modelParam } : {}),
    ...(rule.allModels ? { allModels: true as const } : {}),
  };
}

/** Route pattern → method → access; HEAD answered as GET. Two lookups, no string built per request. */
const HTTP_INDEX = new Map<string, Map<string, RequiredAccess>>();
for (const r of HTTP_ACCESS_RULES) {
  let byMethod = HTTP_INDEX.get(r.route);
  if (byMethod === undefined) HTTP_INDEX.set(r.route, (byMethod = new Map()));
  byMethod.set(r.method, accessOf(r));
  if (r.method === 'GET') byMethod.set('HEAD', accessOf(r));
}
const GRPC_INDEX = new Map(GRPC_ACCESS_RULES.map((r) => [r.method, accessOf(r)]));

/**
 * The access a route needs, by method and the route pattern Fastify registered (`request.routeOptions.url`);
 * undefined when the route is not in the table.
 * @example requiredAccess('POST', '/v2/models/:model/infer') // { scope: 'infer', modelParam: 'model' }
 */
export function requiredAccess(method: string, routePattern: string): RequiredAccess | undefined {
  const byMethod = HTTP_INDEX.get(routePattern);
  if (byMethod === undefined) return undefined;
  // Node's parser gives upper-case methods; other callers may not.
  return byMethod.get(method) ?? byMethod.get(method.toUpperCase());
}

/**
 * The access a gRPC method needs, by name (`ModelInfer`) or full path
 * (`/inference.GRPCInferenceService/ModelInfer`).
 */
export function requiredGrpcAccess(method: string): RequiredAccess | undefined {
  const name = method.startsWith(GRPC_SERVICE_PREFIX) ? method.slice(GRPC_SERVICE_PREFIX.length) : method;
  return GRPC_INDEX.get(name);
}

/** What an authenticated token holds. */
export interface TokenGrant {
  scopes: readonly Scope[];
  /** Model globs; null: every model. */
  models: readonly string[] | null;
}

export type AccessDecision = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/**
 * Decide one call: `grant` is null when no valid token came with it (401); `model` is the value of the
 * rule's model parameter, if any (an empty or missing one counts as every model).
 */
export function decideAccess(
  access: RequiredAccess,
  grant: TokenGrant | null,
  model?: string,
): AccessDecision {
  if (access.scope === 'public') return { ok: true };
  if (grant === null)
    return { ok: false, status: 401, reason: 'a valid token is required (Authorization: Bearer <token>)' };
  if (!grants(grant.scopes, access.scope)) {
    return { ok: false, status: 403, reason: `the token lacks the '${access.scope}' scope` };
  }
  const restricted = grant.models !== null && grant.models.length > 0;
  if (!restricted) return { ok: true };
  const spansAll =
    access.allModels === true || (access.modelParam !== undefined && (model === undefined || model === ''));
  if (spansAll)
    return {
      ok: false,
      status: 403,
      reason: 'the token is limited to some models and this call covers every model',
    };
  if (model !== undefined && !modelGlobMatches(grant.models, model)) {
    return { ok: false, status: 403, reason: `the token may not use model '${model.slice(0, 128)}'` };
  }
  return { ok: true };
}
