import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  DeploymentRoutesSchema,
  DEPLOYMENT_ACTIONS,
  isDeploymentAction,
  parseDeploymentRoutes,
  resolveRoutes,
  routeRefs,
  signatureMismatch,
} from './deployment.js';
import { TendError } from './errors.js';
import type { ModelSignature } from './signature.js';

function invalid(value: unknown, ...fragments: string[]): void {
  assert.throws(
    () => parseDeploymentRoutes(value),
    (err: unknown) => {
      assert.ok(err instanceof TendError);
      assert.equal(err.code, 'TEND_INVALID_ARGUMENT');
      for (const fragment of fragments)
        assert.ok(err.message.includes(fragment), `'${fragment}' not in: ${err.message}`);
      return true;
    },
  );
}

test('routes normalize version refs to strings and header names to lower case', () => {
  assert.deepEqual(parseDeploymentRoutes({ champion: 3 }), { champion: '3' });
  assert.deepEqual(parseDeploymentRoutes({ champion: '007' }), { champion: '7' });
  assert.deepEqual(parseDeploymentRoutes({ champion: 'LATEST' }), { champion: 'latest' });
  assert.deepEqual(
    parseDeploymentRoutes({
      champion: 'stable',
      shadow: { version: 5 },
      experiment: {
        variants: [
          { version: 1, weight: 1 },
          { version: 'challenger', weight: 2.5 },
          { version: 4, weight: 0 },
        ],
        sticky_by: 'X-User-Id',
      },
    }),
    {
      champion: 'stable',
      shadow: { version: '5' },
      experiment: {
        variants: [
          { version: '1', weight: 1 },
          { version: 'challenger', weight: 2.5 },
          { version: '4', weight: 0 },
        ],
        sticky_by: 'x-user-id',
      },
    },
  );
  assert.deepEqual(parseDeploymentRoutes({ champion: 2, canary: { version: 3, percent: 0 } }).canary, {
    version: '3',
    percent: 0,
  });
  assert.deepEqual(parseDeploymentRoutes({ champion: 2, canary: { version: 3, percent: 100 } }).canary, {
    version: '3',
    percent: 100,
  });
  assert.equal(
    parseDeploymentRoutes({ champion: 2, canary: { version: 3, percent: 0.5 } }).canary?.percent,
    0.5,
  );
});

test('YAML and JSON spellings give the same object', () => {
  const yaml = parseYaml('champion: 2\ncanary:\n  version: 3\n  percent: 10\n') as unknown;
  const json = JSON.parse('{"champion":"2","canary":{"version":"3","percent":10}}') as unknown;
  assert.deepEqual(parseDeploymentRoutes(yaml), parseDeploymentRoutes(json));
});

test('bad routes are TEND_INVALID_ARGUMENT naming the field and the fix', () => {
  invalid(null, 'routes must be an object');
  invalid({}, 'champion: missing');
  invalid({ champion: 'a b' }, "champion: 'a b' is not a version number");
  invalid({ champion: 0 }, 'champion: version 0 is not a positive integer');
  invalid({ champion: '0' }, "version '0' is not a positive integer");
  invalid({ champion: 1.5 }, 'version 1.5');
  invalid({ champion: true }, 'champion: expected a version number');
  invalid(
    { champion: 1, extra: 1 },
    "unknown field 'extra' in routes (allowed: champion, canary, shadow, experiment)",
  );
  invalid(
    { champion: 1, canary: { version: 2, percent: 101 } },
    'canary.percent: canary.percent must be between 0 and 100',
  );
  invalid({ champion: 1, canary: { version: 2, percent: -1 } }, 'between 0 and 100');
  invalid({ champion: 1, canary: { version: 2 } }, 'canary.percent');
  invalid({ champion: 1, canary: { version: 2, percent: '10' } }, 'canary.percent');
  invalid({ champion: 1, canary: { version: 1, percent: 10 } }, "the canary '1' is the champion itself");
  invalid({ champion: 'x', shadow: { version: 'x' } }, "the shadow 'x' is the champion itself");
  invalid(
    { champion: 1, shadow: { version: 2, percent: 5 } },
    "unknown field 'percent' in shadow (allowed: version)",
  );
  invalid(
    { champion: 1, experiment: { variants: [{ version: 2, weight: 1 }] } },
    'experiment.variants: an experiment needs at least 2 variants',
  );
  invalid(
    {
      champion: 1,
      experiment: {
        variants: [
          { version: 2, weight: 0 },
          { version: 3, weight: 0 },
        ],
      },
    },
    'the variant weights must sum to more than 0',
  );
  invalid(
    {
      champion: 1,
      experiment: {
        variants: [
          { version: 2, weight: -1 },
          { version: 3, weight: 1 },
        ],
      },
    },
    'weight must be >= 0',
  );
  invalid(
    {
      champion: 1,
      experiment: {
        variants: [
          { version: 2, weight: Infinity },
          { version: 3, weight: 1 },
        ],
      },
    },
    'finite',
  );
  invalid(
    {
      champion: 1,
      experiment: {
        variants: [
          { version: 2, weight: 1 },
          { version: '2', weight: 1 },
        ],
      },
    },
    "version '2' appears in two variants",
  );
  invalid(
    {
      champion: 1,
      experiment: {
        variants: [
          { version: 2, weight: 1 },
          { version: 3, weight: 1 },
        ],
        sticky_by: 'x user',
      },
    },
    'experiment.sticky_by',
  );
  invalid({ champion: 1, experiment: { variants: 'x' } }, 'experiment.variants must be a list');
});

test('canary and experiment are mutually exclusive, and the message says why', () => {
  invalid(
    {
      champion: 1,
      canary: { version: 2, percent: 10 },
      experiment: {
        variants: [
          { version: 2, weight: 1 },
          { version: 3, weight: 1 },
        ],
      },
    },
    'canary and experiment cannot be combined',
    'both divide the live traffic',
  );
});

test('every problem is reported at once', () => {
  invalid(
    { champion: 1, canary: { version: 1, percent: 5 }, bogus: 1 },
    "unknown field 'bogus'",
    'canary.version',
  );
});

test('routeRefs lists every ref with its route; resolveRoutes maps them to numbers', () => {
  const routes = parseDeploymentRoutes({
    champion: 'stable',
    shadow: { version: 9 },
    experiment: {
      variants: [
        { version: 1, weight: 1 },
        { version: 'b', weight: 3 },
      ],
      sticky_by: 'X-U',
    },
  });
  assert.deepEqual(routeRefs(routes), [
    { route: 'champion', ref: 'stable' },
    { route: 'shadow', ref: '9' },
    { route: 'experiment', ref: '1', variant: 0 },
    { route: 'experiment', ref: 'b', variant: 1 },
  ]);
  const table: Record<string, number> = { stable: 4, '9': 9, '1': 1, b: 7 };
  assert.deepEqual(
    resolveRoutes(routes, (ref) => table[ref] ?? 0),
    {
      champion: 4,
      shadow: { version: 9 },
      experiment: {
        variants: [
          { version: 1, weight: 1 },
          { version: 7, weight: 3 },
        ],
        sticky_by: 'x-u',
      },
    },
  );
  const canary = parseDeploymentRoutes({ champion: 1, canary: { version: 'next', percent: 10 } });
  assert.deepEqual(routeRefs(canary), [
    { route: 'champion', ref: '1' },
    { route: 'canary', ref: 'next' },
  ]);
  assert.deepEqual(
    resolveRoutes(canary, (ref) => (ref === 'next' ? 2 : 1)),
    { champion: 1, canary: { version: 2, percent: 10 } },
  );
});

test('deployment actions are a closed list', () => {
  for (const action of DEPLOYMENT_ACTIONS) assert.equal(isDeploymentAction(action), true);
  assert.equal(isDeploymentAction('nope'), false);
  assert.equal(isDeploymentAction(3), false);
});

test('signatureMismatch names input and output differences', () => {
  const base: ModelSignature = {
    inputs: [{ name: 'x', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 4] }],
    outputs: [{ name: 'y', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 2] }],
  };
  assert.equal(signatureMismatch(base, base), null);
  // Different shapes and an extra output are fine: clients still get what they asked for.
  assert.equal(
    signatureMismatch(base, {
      inputs: [{ name: 'x', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['n', 4] }],
      outputs: [
        ...base.outputs,
        { name: 'z', datatype: 'INT64', onnx_type: 'tensor(int64)', shape: ['batch'] },
      ],
    }),
    null,
  );
  assert.equal(
    signatureMismatch(base, {
      inputs: [
        { name: 'x', datatype: 'FP64', onnx_type: 'tensor(double)', shape: ['batch', 4] },
        { name: 'mask', datatype: 'BOOL', onnx_type: 'tensor(bool)', shape: ['batch', 4] },
      ],
      outputs: [{ name: 'probs', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 2] }],
    }),
    "input 'x' is FP64, not FP32; it takes an extra input 'mask'; output 'y' is missing",
  );
  assert.equal(
    signatureMismatch(base, {
      inputs: [],
      outputs: [{ name: 'y', datatype: null, onnx_type: 'seq(tensor(float))', shape: null }],
    }),
    "input 'x' is missing; output 'y' is seq(tensor(float)), not FP32",
  );
});

test('the routes schema converts to JSON Schema (input side) for the OpenAPI document', () => {
  const schema = z.toJSONSchema(DeploymentRoutesSchema, { io: 'input' }) as {
    required: string[];
    additionalProperties: boolean;
    properties: Record<string, { description?: string }>;
  };
  assert.deepEqual(schema.required, ['champion']);
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(Object.keys(schema.properties), ['champion', 'canary', 'shadow', 'experiment']);
  assert.ok(schema.properties['champion']?.description);
});
