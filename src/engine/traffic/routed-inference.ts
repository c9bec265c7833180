/**
 * Routed inference: which version answers a request for an endpoint (an explicit version or alias,
 * else the endpoint's deployment routes, else the default version), and the run of a routed request
 * with what its routes add: a shadow gets a copy of the inputs once the caller has its answer, and
 * a canary's automatic policy sees the outcome. Neither ever fails or delays the caller's request.
 */
import { checkModelRef } from '../../core/input-limits.js';
import type { ResolvedRoutes } from '../../core/deployment.js';
import { toTendError } from '../../core/errors.js';
import type { ModelTable } from '../serving/model-table.js';
import { copyTensors, runOnVersion, type InferRequest, type InferResponse } from '../serving/run-request.js';
import type { ServedVersion } from '../serving/served-version.js';
import type { DeploymentControl } from './deployment-control.js';
import { chooseRoute, routingKey, type RouteKind } from './routing.js';

/** Errors that are the version's fault (not the caller's): what a canary's error rate counts. */
const VERSION_FAULTS = new Set([
  'TEND_INFERENCE_FAILED',
  'TEND_WORKER_FAILED',
  'TEND_INTERNAL',
  'TEND_MODEL_NOT_READY',
]);

/** Where a request goes: its version, the route that picked it, the endpoint's routes, a shadow. */
export interface RoutedRequest {
  target: ServedVersion;
  route: RouteKind | 'direct';
  routes?: ResolvedRoutes;
  shadow?: number;
}

/**
 * The version that answers a request: an explicit version or alias wins; else the endpoint's
 * deployment routes pick one by the routing key (the request id, or the experiment's sticky
 * header); else the default version. `shadow` is set for champion-routed requests of an endpoint
 * with a shadow.
 */
export async function routeRequest(
  table: ModelTable,
  deployments: DeploymentControl,
  modelRef: string,
  versionRef: string | undefined,
  requestId: string,
  header: (lowerCaseName: string) => string | undefined,
): Promise<RoutedRequest> {
  // Before the deployment lookup: it queries the registry by this name.
  checkModelRef(modelRef, versionRef);
  if ((versionRef !== undefined && versionRef !== '') || modelRef.includes('@')) {
    return { target: await table.resolve(modelRef, versionRef), route: 'direct' };
  }
  const entry = table.get(modelRef);
  const routes = entry?.source === 'repository' ? null : await deployments.routesFor(modelRef);
  if (!routes) return { target: await table.resolve(modelRef), route: 'direct' };
  const choice = chooseRoute(routes, `${modelRef}:${routingKey(routes, requestId, header)}`);
  const target = await table.resolve(modelRef, String(choice.version));
  if (routes.shadow && choice.route === 'champion' && routes.shadow.version !== choice.version) {
    return { target, route: choice.route, routes, shadow: routes.shadow.version };
  }
  return { target, route: choice.route, routes };
}

/**
 * Run a routed request; with a shadow, mirror a copy of its inputs once the caller has the
 * answer; with a canary, feed the outcome to its automatic policy.
 */
export async function runRouted(
  deployments: DeploymentControl,
  endpoint: string,
  routed: RoutedRequest,
  request: InferRequest,
): Promise<InferResponse> {
  const guarded =
    routed.routes?.canary !== undefined && (routed.route === 'champion' || routed.route === 'canary');
  if (routed.shadow === undefined && !guarded) return runOnVersion(routed.target, request);
  const mirrored =
    routed.shadow !== undefined &&
    deployments.reserveShadow(endpoint, { champion: routed.target.version, shadow: routed.shadow });
  const copy = mirrored ? copyTensors(request.inputs) : undefined;
  const started = performance.now();
  let response: InferResponse;
  try {
    response = await runOnVersion(routed.target, request);
  } catch (err) {
    if (mirrored) deployments.releaseShadow(endpoint);
    if (guarded && routed.routes && VERSION_FAULTS.has(toTendError(err).code)) {
      deployments.observe(
        endpoint,
        routed.routes,
        routed.route as 'champion' | 'canary',
        false,
        performance.now() - started,
      );
    }
    throw err;
  }
  if (guarded && routed.routes)
    deployments.observe(
      endpoint,
      routed.routes,
      routed.route as 'champion' | 'canary',
      true,
      performance.now() - started,
    );
  if (copy && routed.shadow !== undefined)
    deployments.mirror(endpoint, routed.target, routed.shadow, copy, response.outputs);
  return response;
}
