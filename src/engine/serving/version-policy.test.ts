import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectVersions } from './version-policy.js';

test('version policies pick the versions Triton would', () => {
  assert.deepEqual(selectVersions({ latest: { num_versions: 1 } }, [1, 3, 2]), [3]);
  assert.deepEqual(selectVersions({ latest: { num_versions: 2 } }, [1, 3, 2]), [3, 2]);
  assert.deepEqual(selectVersions({ all: {} }, [2, 1]), [2, 1]);
  assert.deepEqual(selectVersions({ specific: { versions: [1, 7] } }, [1, 2, 3]), [1]);
  assert.deepEqual(selectVersions({ latest: { num_versions: 1 } }, []), []);
});
