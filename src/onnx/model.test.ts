import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel, readModelFile, writeModel } from './model.js';
import { hasCode } from '../core/test-support.test-helper.js';
import { tempDir } from '../core/test-support.test-helper.js';

const MODELS = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

const invalidModel = (pattern: RegExp) => hasCode('TEND_INVALID_MODEL', pattern);

test('every fixture model reads and re-writes byte-identically', () => {
  const files = readdirSync(MODELS).filter((f) => f.endsWith('.onnx'));
  assert.ok(files.length >= 3);
  for (const file of files) {
    const bytes = readFileSync(join(MODELS, file));
    const model = readModel(bytes);
    assert.ok(model.graph, file);
    assert.deepEqual(Buffer.from(writeModel(model)), bytes, `${file} changed on a round trip`);
    assert.deepEqual(Buffer.from(writeModel(readModelFile(join(MODELS, file)))), bytes);
  }
});

test('empty and garbage bytes are not models', () => {
  assert.throws(() => readModel(new Uint8Array()), invalidModel(/^not an ONNX model: the data is empty/));
  // An invalid wire type fails to decode at all.
  assert.throws(
    () => readModel(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])),
    invalidModel(/^not an ONNX model/),
  );
  // Text decodes as a few unknown fields but has no graph.
  assert.throws(() => readModel(new TextEncoder().encode('hello')), invalidModel(/^not an ONNX model/));
  // Pseudo-random bytes.
  const noise = new Uint8Array(4096);
  let s = 12345;
  for (let i = 0; i < noise.length; i++) noise[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  assert.throws(() => readModel(noise), invalidModel(/^not an ONNX model/));
});

test('a truncated model is rejected', () => {
  const bytes = readFileSync(join(MODELS, 'digits_mlp.onnx'));
  assert.throws(() => readModel(bytes.subarray(0, bytes.length - 100)), invalidModel(/^not an ONNX model/));
});

test('readModelFile names the path of a missing, empty or invalid file', () => {
  const dir = tempDir('onnx');
  try {
    const missing = join(dir, 'missing.onnx');
    assert.throws(() => readModelFile(missing), invalidModel(/missing\.onnx/));
    assert.throws(() => readModelFile(dir), invalidModel(/cannot read model file/));
    const empty = join(dir, 'empty.onnx');
    writeFileSync(empty, '');
    assert.throws(() => readModelFile(empty), invalidModel(/empty\.onnx: not an ONNX model/));
    const text = join(dir, 'model.onnx');
    writeFileSync(text, '{"not": "onnx"}');
    assert.throws(() => readModelFile(text), invalidModel(/model\.onnx: not an ONNX model/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
