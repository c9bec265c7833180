/**
 * The DeploymentStore's checks of routes, as part of the shared suite (deployment-store.case.ts):
 * refs that must exist, bad routes, two routes on one version, and versions that cannot take the
 * champion's traffic. Every refused write leaves the deployment as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import type { RegistryStores } from './registry-stores.js';
import { newVersion, rejectsWith } from './store.case.js';

export const ALICE = { actor: 'alice', action: 'put' } as const;

/** Rejects with a TendError of `code` whose message holds every fragment. */
export async function rejectsMentioning(
  promise: Promise<unknown>,
  code: ErrorCode,
  ...fragments: string[]
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TendError, `expected a TendError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const fragment of fragments)
      assert.ok(err.message.includes(fragment), `'${fragment}' not in: ${err.message}`);
    return true;
  });
}

/**
 * Register the route-check tests inside the suite's describe; `current` gives the stores of the
 * running test (fresh for each, with model 'digits' versions 1–4 and alias 'stable' → 1).
 */
export function deploymentValidationTests(current: () => RegistryStores): void {
  test('refs must exist: errors name the route and the missing version or alias; nothing changes', async () => {
    const stores = current();
    const first = await stores.deployments.putDeployment('digits', { champion: 1 }, ALICE);
    await rejectsMentioning(
      stores.deployments.putDeployment('nope', { champion: 1 }, ALICE),
      'TEND_MODEL_NOT_FOUND',
      "'nope'",
    );
    await rejectsMentioning(
      stores.deployments.putDeployment('digits', { champion: 1, canary: { version: 9, percent: 10 } }, ALICE),
      'TEND_VERSION_NOT_FOUND',
      'canary.version',
      "no version '9'",
    );
    await rejectsMentioning(
      stores.deployments.putDeployment('digits', { champion: 7 }, ALICE),
      'TEND_VERSION_NOT_FOUND',
      'champion',
    );
    await rejectsMentioning(
      stores.deployments.putDeployment('digits', { champion: 1, shadow: { version: 'challenger' } }, ALICE),
      'TEND_ALIAS_NOT_FOUND',
      'shadow.version',
      "no alias 'challenger'",
    );
    await rejectsMentioning(
      stores.deployments.putDeployment(
        'digits',
        {
          champion: 1,
          experiment: {
            variants: [
              { version: 1, weight: 1 },
              { version: 'ghost', weight: 1 },
            ],
          },
        },
        ALICE,
      ),
      'TEND_ALIAS_NOT_FOUND',
      'experiment.variants.1.version',
    );
    assert.deepEqual(await stores.deployments.getDeployment('digits'), first);
    assert.equal((await stores.deployments.deploymentHistory('digits')).length, 1);
  });

  test('bad routes and bad changes are TEND_INVALID_ARGUMENT', async () => {
    const stores = current();
    await rejectsMentioning(
      stores.deployments.putDeployment(
        'digits',
        { champion: 1, canary: { version: 2, percent: 150 } },
        ALICE,
      ),
      'TEND_INVALID_ARGUMENT',
      'percent',
    );
    await rejectsMentioning(
      stores.deployments.putDeployment(
        'digits',
        {
          champion: 1,
          experiment: {
            variants: [
              { version: 1, weight: 0 },
              { version: 2, weight: 0 },
            ],
          },
        },
        ALICE,
      ),
      'TEND_INVALID_ARGUMENT',
      'sum to more than 0',
    );
    await rejectsWith(
      stores.deployments.putDeployment('digits', { champion: 1 }, { actor: '', action: 'put' }),
      'TEND_INVALID_ARGUMENT',
    );
    await rejectsWith(
      stores.deployments.putDeployment('digits', { champion: 1 }, { actor: 'a', action: 'launch' as 'put' }),
      'TEND_INVALID_ARGUMENT',
    );
    await rejectsWith(
      stores.deployments.putDeployment('digits', { champion: 1 }, { ...ALICE, reason: 'x'.repeat(2001) }),
      'TEND_INVALID_ARGUMENT',
    );
    await rejectsWith(
      stores.deployments.putDeployment('digits', { champion: 1 }, { ...ALICE, expected_revision: 0 }),
      'TEND_INVALID_ARGUMENT',
    );
    await rejectsWith(stores.deployments.deploymentHistory('digits', { limit: 0 }), 'TEND_INVALID_ARGUMENT');
    await rejectsWith(
      stores.deployments.deploymentHistory('digits', { limit: 1.5 }),
      'TEND_INVALID_ARGUMENT',
    );
    assert.equal(await stores.deployments.getDeployment('digits'), null);
  });

  test('two routes resolving to one version are refused; an experiment may include the champion', async () => {
    const stores = current();
    await rejectsMentioning(
      stores.deployments.putDeployment(
        'digits',
        { champion: 1, canary: { version: 'stable', percent: 10 } },
        ALICE,
      ),
      'TEND_INVALID_ARGUMENT',
      "canary.version: 'stable' is version 1, the champion's version",
    );
    await rejectsMentioning(
      stores.deployments.putDeployment('digits', { champion: 4, shadow: { version: 'latest' } }, ALICE),
      'TEND_INVALID_ARGUMENT',
      'shadow.version',
    );
    await rejectsMentioning(
      stores.deployments.putDeployment(
        'digits',
        {
          champion: 2,
          experiment: {
            variants: [
              { version: 1, weight: 1 },
              { version: 'stable', weight: 1 },
            ],
          },
        },
        ALICE,
      ),
      'TEND_INVALID_ARGUMENT',
      'experiment.variants.1.version',
    );
    const ab = await stores.deployments.putDeployment(
      'digits',
      {
        champion: 1,
        experiment: {
          variants: [
            { version: 1, weight: 1 },
            { version: 2, weight: 1 },
          ],
          sticky_by: 'X-User',
        },
      },
      ALICE,
    );
    assert.equal(ab.routes.experiment?.sticky_by, 'x-user');
  });

  test("every version must take the champion's inputs and give its outputs", async () => {
    const stores = current();
    const other = await stores.models.createVersion(
      newVersion('digits', {
        signature: {
          inputs: [{ name: 'x', datatype: 'FP64', onnx_type: 'tensor(double)', shape: ['batch', 4] }],
          outputs: [{ name: 'y', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 2] }],
        },
      }),
    );
    await rejectsMentioning(
      stores.deployments.putDeployment(
        'digits',
        { champion: 1, canary: { version: other.version, percent: 10 } },
        ALICE,
      ),
      'TEND_INVALID_ARGUMENT',
      `canary.version: version ${other.version} cannot take the traffic of champion version 1`,
      "input 'x' is FP64, not FP32",
    );
    await rejectsWith(
      stores.deployments.putDeployment('digits', { champion: 1, shadow: { version: other.version } }, ALICE),
      'TEND_INVALID_ARGUMENT',
    );
  });
}
