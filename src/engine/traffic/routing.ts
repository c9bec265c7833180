/**
 * Which version answers a request, from the endpoint's resolved routes and a routing key. Pure and
 * deterministic: the same key always lands on the same version while the routes stay the same, so
 * a client retrying a request id, or a user sticky by header, never flips between versions.
 */
import type { ResolvedRoutes } from '../../core/deployment.js';
import { MAX_ROUTING_KEY_BYTES, isOverBytes, tooLong } from '../../core/input-limits.js';

export type RouteKind = 'champion' | 'canary' | 'experiment';

export interface RouteChoice {
  version: number;
  route: RouteKind;
  /** Index into experiment.variants when route is 'experiment'. */
  variant?: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const TWO_TO_32 = 4294967296;

/**
 * A key hashed to a uniform number in [0, 1): FNV-1a over the UTF-16 code units, then the
 * murmur3 finalizer, because FNV alone leaves the high bits of short, sequential keys ("req-1",
 * "req-2") correlated and the high bits are what decide the share.
 * @example unitHash('req-42') // the same number on every call and every process
 */
export function unitHash(key: string, seed = 0): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / TWO_TO_32;
}

/**
 * The key a request is routed by: the value of the experiment's sticky header when the routes name
 * one and the request carries it (non-empty), else the request id.
 * @throws TendError TEND_INVALID_INPUT when the header's value is over MAX_ROUTING_KEY_BYTES.
 * @example routingKey(routes, request.id, (name) => headers[name])
 */
export function routingKey(
  routes: ResolvedRoutes,
  requestId: string,
  header: (lowerCaseName: string) => string | undefined,
): string {
  const sticky = routes.experiment?.sticky_by;
  if (sticky === undefined) return requestId;
  const value = header(sticky);
  if (value === undefined || value === '') return requestId;
  if (isOverBytes(value, MAX_ROUTING_KEY_BYTES))
    throw tooLong(`the value of header '${sticky}'`, value, MAX_ROUTING_KEY_BYTES);
  return value;
}

function chooseVariant(
  experiment: NonNullable<ResolvedRoutes['experiment']>,
  point: number,
): RouteChoice | undefined {
  const { variants } = experiment;
  let total = 0;
  for (const v of variants) total += v.weight;
  if (!(total > 0)) return undefined;
  const target = point * total;
  let cumulative = 0;
  let last: RouteChoice | undefined;
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i] as { version: number; weight: number };
    if (v.weight <= 0) continue; // a weight-0 variant covers no part of [0, total)
    cumulative += v.weight;
    last = { version: v.version, route: 'experiment', variant: i };
    if (target < cumulative) return last;
  }
  return last; // rounding left `target` a hair above the sum: the last positive variant owns the end
}

/**
 * The version that answers a request with this routing key. A canary takes `percent`% of keys (the
 * same keys stay in it as the percent grows); an experiment splits keys by cumulative weight.
 * @example chooseRoute({ champion: 3, canary: { version: 4, percent: 10 } }, 'req-1') // { version: 3, route:
 * 'champion' }
 */
export function chooseRoute(routes: ResolvedRoutes, key: string): RouteChoice {
  const { canary, experiment } = routes;
  if (canary !== undefined && canary.percent > 0) {
    if (canary.percent >= 100 || unitHash(key) * 100 < canary.percent)
      return { version: canary.version, route: 'canary' };
  } else if (experiment !== undefined) {
    const choice = chooseVariant(experiment, unitHash(key));
    if (choice !== undefined) return choice;
  }
  return { version: routes.champion, route: 'champion' };
}

/**
 * The version a request is mirrored to, if any. Given the version that answered, a request is not
 * mirrored to that same version (a canary that is also the shadow).
 */
export function shadowTarget(routes: ResolvedRoutes, answeredBy?: number): number | undefined {
  const shadow = routes.shadow?.version;
  return shadow === undefined || shadow === answeredBy ? undefined : shadow;
}
