import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  GRPC_ACCESS_RULES,
  HTTP_ACCESS_RULES,
  decideAccess,
  requiredAccess,
  requiredGrpcAccess,
  type RequiredAccess,
  type TokenGrant,
} from './access-policy.js';

const PROTO = fileURLToPath(new URL('../../proto/grpc_service.proto', import.meta.url));

test('the table has one row per method and route, and model params are params of their route', () => {
  const seen = new Set<string>();
  for (const rule of HTTP_ACCESS_RULES) {
    const key = `${rule.method} ${rule.route}`;
    assert.ok(!seen.has(key), `duplicate row ${key}`);
    seen.add(key);
    if (rule.modelParam !== undefined) assert.ok(rule.route.includes(`/:${rule.modelParam}`), key);
    assert.ok(!(rule.modelParam !== undefined && rule.allModels), key);
    if (rule.scope === 'public') assert.equal(rule.method, 'GET', `${key}: only reads are public`);
  }
});

test("the issue's table: health and static public, then read, infer, feedback, deploy, admin", () => {
  const expect: Array<[string, string, RequiredAccess]> = [
    ['GET', '/v2/health/live', { scope: 'public' }],
    ['GET', '/v2/health/ready', { scope: 'public' }],
    ['GET', '/dashboard/:file', { scope: 'public' }],
    ['GET', '/', { scope: 'public' }],
    ['GET', '/v2', { scope: 'read' }],
    ['GET', '/v2/models/:model', { scope: 'read', modelParam: 'model' }],
    ['GET', '/metrics', { scope: 'read', allModels: true }],
    ['GET', '/v2/models/stats', { scope: 'read', allModels: true }],
    ['GET', '/v2/models/:model/monitor', { scope: 'read', modelParam: 'model' }],
    ['GET', '/api/v1/dashboard/models', { scope: 'read', allModels: true }],
    ['POST', '/v2/models/:model/infer', { scope: 'infer', modelParam: 'model' }],
    ['POST', '/v2/models/:model/versions/:version/infer', { scope: 'infer', modelParam: 'model' }],
    ['POST', '/v2/models/:model/explain', { scope: 'infer', modelParam: 'model' }],
    ['POST', '/v2/models/:model/feedback', { scope: 'feedback', modelParam: 'model' }],
    ['POST', '/v2/models/:model/learn', { scope: 'deploy', modelParam: 'model' }],
    ['POST', '/v2/repository/models/:model/load', { scope: 'deploy', modelParam: 'model' }],
    ['POST', '/v2/repository/models/:model/unload', { scope: 'deploy', modelParam: 'model' }],
    ['GET', '/api/v1/deployments/:endpoint', { scope: 'read', modelParam: 'endpoint' }],
    ['PUT', '/api/v1/deployments/:endpoint', { scope: 'deploy', modelParam: 'endpoint' }],
    ['PUT', '/api/v1/models/:name/aliases/:alias', { scope: 'deploy', modelParam: 'name' }],
    ['POST', '/api/v1/train', { scope: 'deploy', allModels: true }],
    ['GET', '/api/v1/runs', { scope: 'read', allModels: true }],
    ['POST', '/api/v1/tokens', { scope: 'admin' }],
    ['DELETE', '/api/v1/tokens/:id', { scope: 'admin' }],
    ['GET', '/api/v1/audit', { scope: 'admin' }],
    ['DELETE', '/api/v1/prediction-log', { scope: 'admin' }],
  ];
  for (const [method, route, access] of expect)
    assert.deepEqual(requiredAccess(method, route), access, `${method} ${route}`);
});

test('HEAD is answered as GET; unknown methods and routes are not in the table', () => {
  assert.deepEqual(requiredAccess('HEAD', '/v2/health/live'), { scope: 'public' });
  assert.deepEqual(requiredAccess('get', '/metrics'), { scope: 'read', allModels: true });
  assert.equal(requiredAccess('DELETE', '/v2/models/:model/infer'), undefined);
  assert.equal(requiredAccess('GET', '/v2/models/:model/infer'), undefined);
  assert.equal(requiredAccess('GET', '/v2/models/m/infer'), undefined); // a URL, not a route pattern
  assert.equal(requiredAccess('OPTIONS', '/v2'), undefined);
  assert.equal(requiredAccess('GET', '/no/such/route'), undefined);
});

test('every gRPC method of the proto has a rule; health public, load/unload deploy', () => {
  const methods = [...readFileSync(PROTO, 'utf8').matchAll(/^\s*rpc\s+(\w+)\s*\(/gm)].map((m) => m[1] ?? '');
  assert.ok(methods.length >= 11);
  for (const method of methods) assert.ok(requiredGrpcAccess(method), `no access rule for gRPC ${method}`);
  assert.deepEqual(requiredGrpcAccess('ServerLive'), { scope: 'public' });
  assert.deepEqual(requiredGrpcAccess('ModelReady'), { scope: 'public' });
  assert.deepEqual(requiredGrpcAccess('/inference.GRPCInferenceService/ModelInfer'), {
    scope: 'infer',
    modelParam: 'model_name',
  });
  assert.deepEqual(requiredGrpcAccess('ModelStreamInfer'), { scope: 'infer', modelParam: 'model_name' });
  assert.deepEqual(requiredGrpcAccess('RepositoryModelLoad'), { scope: 'deploy', modelParam: 'model_name' });
  assert.deepEqual(requiredGrpcAccess('RepositoryIndex'), { scope: 'read', allModels: true });
  assert.equal(requiredGrpcAccess('/other.Service/ModelInfer'), undefined);
  assert.equal(requiredGrpcAccess('Nope'), undefined);
  assert.equal(new Set(GRPC_ACCESS_RULES.map((r) => r.method)).size, GRPC_ACCESS_RULES.length);
});

const everything: TokenGrant = { scopes: ['infer'], models: null };
const fraudOnly: TokenGrant = { scopes: ['infer', 'read'], models: ['fraud-*'] };

test('decideAccess: public needs nothing; no token is 401; missing scope is 403', () => {
  assert.deepEqual(decideAccess({ scope: 'public' }, null), { ok: true });
  const infer = requiredAccess('POST', '/v2/models/:model/infer')!;
  const noToken = decideAccess(infer, null, 'm');
  assert.equal(noToken.ok, false);
  assert.equal(!noToken.ok && noToken.status, 401);
  assert.deepEqual(decideAccess(infer, everything, 'm'), { ok: true });
  const feedback = decideAccess(requiredAccess('POST', '/v2/models/:model/feedback')!, everything, 'm');
  assert.deepEqual(feedback, { ok: false, status: 403, reason: "the token lacks the 'feedback' scope" });
  assert.deepEqual(
    decideAccess(requiredAccess('GET', '/api/v1/audit')!, { scopes: ['admin'], models: null }),
    { ok: true },
  );
  assert.deepEqual(decideAccess(requiredAccess('GET', '/metrics')!, { scopes: ['deploy'], models: null }), {
    ok: true,
  });
  assert.equal(
    decideAccess(requiredAccess('GET', '/api/v1/tokens')!, { scopes: ['deploy'], models: null }).ok,
    false,
  );
});

test('decideAccess: model globs limit model routes and refuse routes that span every model', () => {
  const infer = requiredAccess('POST', '/v2/models/:model/infer')!;
  assert.deepEqual(decideAccess(infer, fraudOnly, 'fraud-v2'), { ok: true });
  const other = decideAccess(infer, fraudOnly, 'churn');
  assert.deepEqual(other, { ok: false, status: 403, reason: "the token may not use model 'churn'" });
  assert.equal(decideAccess(infer, fraudOnly, 'fraud-../x').ok, false);
  assert.equal(decideAccess(infer, fraudOnly, '').ok, false);
  assert.equal(decideAccess(infer, fraudOnly).ok, false);
  const metrics = decideAccess(requiredAccess('GET', '/metrics')!, fraudOnly);
  assert.equal(!metrics.ok && metrics.status, 403);
  // Server-level routes do not concern models at all.
  assert.deepEqual(decideAccess(requiredAccess('GET', '/v2')!, fraudOnly), { ok: true });
  // gRPC statistics without a name cover every model.
  const stats = requiredGrpcAccess('ModelStatistics')!;
  assert.deepEqual(decideAccess(stats, fraudOnly, 'fraud-a'), { ok: true });
  assert.equal(decideAccess(stats, fraudOnly, '').ok, false);
  assert.deepEqual(decideAccess(stats, { scopes: ['read'], models: null }, ''), { ok: true });
  // An empty glob list is no restriction.
  assert.deepEqual(decideAccess(requiredAccess('GET', '/metrics')!, { scopes: ['read'], models: [] }), {
    ok: true,
  });
});
