import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../core/logger.js';
import type { Tensor } from '../../core/tensor.js';
import type { Registry } from '../../registry/index.js';
import { DeploymentControl, MAX_SHADOW_IN_FLIGHT, type DeploymentHost } from './deployment-control.js';
import type { ServedVersion } from '../serving/served-version.js';

const champion = { version: 1 } as ServedVersion;
const outputs: Tensor[] = [
  { name: 'y', datatype: 'FP32', shape: [1, 2], data: Float32Array.from([0.2, 0.8]) },
];

test('a busy shadow skips requests instead of queueing them; slots come back when shadows finish', async () => {
  const pending: (() => void)[] = [];
  const host: DeploymentHost = {
    registry: {} as Registry,
    logger: silentLogger,
    version: () => Promise.resolve({ version: 2 } as ServedVersion),
    run: () => new Promise<Tensor[]>((resolve) => pending.push(() => resolve(outputs))),
  };
  const deployments = new DeploymentControl(host);
  const pair = { champion: 1, shadow: 2 };
  for (let i = 0; i < MAX_SHADOW_IN_FLIGHT; i++) {
    assert.equal(deployments.reserveShadow('e', pair), true);
    deployments.mirror('e', champion, 2, [], outputs);
  }
  assert.equal(deployments.reserveShadow('e', pair), false, 'the limit is reached');
  assert.equal(deployments.shadows.endpoint('e')?.skipped, 1);
  await new Promise((r) => setTimeout(r, 20));
  for (const finish of pending.splice(0)) finish();
  await new Promise((r) => setImmediate(r));
  assert.equal(deployments.shadows.endpoint('e')?.count, MAX_SHADOW_IN_FLIGHT);
  assert.equal(deployments.reserveShadow('e', pair), true, 'slots are free again');
  deployments.releaseShadow('e');
  assert.equal(deployments.shadows.endpoint('e')?.skipped, 1);
});
