import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from './index.js';
import { MODELS, digits, pixels } from './runtime-fixtures.test-helper.js';
import { hasCode } from '../core/test-support.test-helper.js';

test('a model given as bytes loads without its file, in a thread and in a process, and answers as from the file', async () => {
  const runtime = new Runtime();
  try {
    const fromFile = await runtime.load(digits('digits:file'));
    const want = await fromFile.run(pixels(3));
    const bytes = new Uint8Array(readFileSync(join(MODELS, 'digits_mlp.onnx')));
    // A path that does not exist: the bytes are what is loaded (as for a model decrypted in memory).
    const base = {
      ...digits('digits:bytes'),
      modelPath: join(MODELS, 'no-such-file.onnx'),
      modelBytes: bytes,
    };
    for (const groups of [
      [{ count: 1, isolation: 'thread' as const }],
      [{ count: 1, isolation: 'process' as const }],
    ]) {
      const model = await runtime.load({ ...base, groups });
      assert.deepEqual((await model.run(pixels(3))).outputs, want.outputs);
      await model.unload();
    }
    await assert.rejects(
      runtime.load({ ...base, modelBytes: new Uint8Array([1, 2, 3]) }),
      hasCode('TEND_MODEL_LOAD_FAILED', /digits:bytes/),
    );
  } finally {
    await runtime.close();
  }
});
