import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from './builder.js';
import { checkExternalData, externalDataRefs, inspectModelFile } from './external-data.js';
import { writeModel } from './model.js';
import {
  create,
  SparseTensorProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
} from './proto.js';
import type { ModelProto } from './proto.js';
import { isTendError } from '../core/errors.js';
import { tempDir } from '../core/test-support.test-helper.js';

const invalidModel = (pattern: RegExp) => (e: unknown) =>
  isTendError(e) && e.code === 'TEND_INVALID_MODEL' && pattern.test(e.message);

/** y = x + w, with w (4 floats) stored at `location`. */
function modelWithWeights(location: string, range: { offset?: number; length?: number } = {}): ModelProto {
  return new GraphBuilder('external')
    .input('x', 'FP32', [4])
    .output('y', 'FP32', [4])
    .externalInitializer('w', 'FP32', [4], location, range)
    .node('Add', ['x', 'w'], ['y'])
    .build();
}

/** A temporary tree: <root>/model/ (the model's folder) and <root>/secret.bin beside it. */
function withFolders(body: (modelDir: string, root: string) => Promise<void> | void) {
  return async () => {
    const root = tempDir('external');
    try {
      const modelDir = join(root, 'model');
      mkdirSync(modelDir);
      writeFileSync(join(root, 'secret.bin'), 'top secret');
      await body(modelDir, root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

test(
  'locations that leave the model folder are rejected',
  withFolders((modelDir, root) => {
    const reject = (location: string, why: RegExp) =>
      assert.throws(
        () => checkExternalData(modelWithWeights(location), modelDir),
        invalidModel(why),
        location,
      );
    reject('../secret.bin', /'..\/secret.bin' of tensor 'w' points outside the model folder/);
    reject('sub/../../secret.bin', /points outside/);
    reject('..\\secret.bin', /points outside/);
    reject('/etc/passwd', /is an absolute path/);
    reject(join(root, 'secret.bin'), /is an absolute path/);
    reject('C:\\Windows\\win.ini', /is an absolute path/);
    reject('.', /points outside/);
    reject('a\0b', /NUL/);

    symlinkSync(join(root, 'secret.bin'), join(modelDir, 'link.bin'));
    reject('link.bin', /link that leads outside/);
    symlinkSync(root, join(modelDir, 'up'));
    reject('up/secret.bin', /link that leads outside/);
    symlinkSync(join(root, 'gone.bin'), join(modelDir, 'dangling.bin'));
    reject('dangling.bin', /broken link/);
    mkdirSync(join(modelDir, 'dir.bin'));
    reject('dir.bin', /not a regular file/);
  }),
);

test(
  'a location inside the folder is accepted, returned absolute, and loads in onnxruntime',
  withFolders(async (modelDir) => {
    writeFileSync(join(modelDir, 'weights.bin'), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer));
    mkdirSync(join(modelDir, 'sub'));
    writeFileSync(join(modelDir, 'sub', 'w2.bin'), '');
    symlinkSync('weights.bin', join(modelDir, 'alias.bin')); // a link that stays inside is fine

    assert.deepEqual(checkExternalData(modelWithWeights('weights.bin'), modelDir), [
      join(modelDir, 'weights.bin'),
    ]);
    assert.deepEqual(checkExternalData(modelWithWeights('sub/../weights.bin'), modelDir), [
      join(modelDir, 'weights.bin'),
    ]);
    assert.deepEqual(checkExternalData(modelWithWeights('./sub/w2.bin'), modelDir), [
      join(modelDir, 'sub', 'w2.bin'),
    ]);
    assert.deepEqual(checkExternalData(modelWithWeights('alias.bin'), modelDir), [
      join(modelDir, 'alias.bin'),
    ]);
    // A missing file is only an error when asked for.
    assert.deepEqual(checkExternalData(modelWithWeights('later.bin'), modelDir), [
      join(modelDir, 'later.bin'),
    ]);
    assert.throws(
      () => checkExternalData(modelWithWeights('later.bin'), modelDir, { requireFiles: true }),
      invalidModel(/'later.bin' of tensor 'w' not found/),
    );

    const path = join(modelDir, 'model.onnx');
    writeFileSync(path, writeModel(modelWithWeights('weights.bin', { offset: 0, length: 16 })));
    const info = inspectModelFile(path);
    assert.deepEqual(info.external_data, [join(modelDir, 'weights.bin')]);
    assert.deepEqual(
      info.signature.inputs.map((i) => i.name),
      ['x'],
    );

    const session = await ort.InferenceSession.create(path);
    try {
      const out = await session.run({
        x: new ort.Tensor('float32', new Float32Array([10, 20, 30, 40]), [4]),
      });
      assert.deepEqual(Array.from(out['y']?.data as Float32Array), [11, 22, 33, 44]);
    } finally {
      await session.release();
    }
  }),
);

test(
  'inspectModelFile rejects missing or escaping external data',
  withFolders((modelDir) => {
    const path = join(modelDir, 'model.onnx');
    writeFileSync(path, writeModel(modelWithWeights('missing.bin')));
    assert.throws(() => inspectModelFile(path), invalidModel(/'missing.bin' of tensor 'w' not found/));
    writeFileSync(path, writeModel(modelWithWeights('../secret.bin')));
    assert.throws(() => inspectModelFile(path), invalidModel(/outside the model folder/));
    assert.throws(() => inspectModelFile(join(modelDir, 'nope.onnx')), invalidModel(/nope\.onnx/));
  }),
);

test(
  'tensors in subgraphs, Constant nodes and sparse initializers are checked too',
  withFolders((modelDir) => {
    const branch = (location: string) =>
      new GraphBuilder('branch')
        .output('b', 'FP32', [4])
        .externalInitializer('bw', 'FP32', [4], location)
        .node('Identity', ['bw'], ['b'])
        .buildGraph();
    const withIf = (location: string) =>
      new GraphBuilder('main')
        .input('c', 'BOOL', [])
        .output('y', 'FP32', [4])
        .node('If', ['c'], ['y'], {
          then_branch: { graph: branch(location) },
          else_branch: { graph: branch('else.bin') },
        })
        .build();
    assert.throws(
      () => checkExternalData(withIf('../secret.bin'), modelDir),
      invalidModel(/'bw' points outside/),
    );
    assert.deepEqual(checkExternalData(withIf('then.bin'), modelDir), [
      join(modelDir, 'then.bin'),
      join(modelDir, 'else.bin'),
    ]);

    // A Constant node whose value tensor is external.
    const secretTensor = () =>
      create(TensorProtoSchema, {
        name: 'k',
        dims: [4n],
        dataType: TensorProto_DataType.FLOAT,
        dataLocation: TensorProto_DataLocation.EXTERNAL,
        externalData: [create(StringStringEntryProtoSchema, { key: 'location', value: '../secret.bin' })],
      });
    const constant = new GraphBuilder('constant')
      .output('y', 'FP32', [4])
      .node('Constant', [], ['y'], { value: { tensor: secretTensor() } })
      .build();
    assert.throws(() => checkExternalData(constant, modelDir), invalidModel(/tensor 'k' points outside/));

    // A sparse initializer whose values are external.
    const sparse = new GraphBuilder('sparse')
      .input('x', 'FP32', [4])
      .output('y', 'FP32', [4])
      .node('Identity', ['x'], ['y'])
      .build();
    sparse.graph?.sparseInitializer.push(
      create(SparseTensorProtoSchema, { values: secretTensor(), dims: [4n] }),
    );
    assert.throws(() => checkExternalData(sparse, modelDir), invalidModel(/tensor 'k' points outside/));
  }),
);

test(
  'duplicate files are listed once and malformed entries are rejected',
  withFolders((modelDir) => {
    const model = modelWithWeights('weights.bin', { offset: 0, length: 8 });
    const second = new GraphBuilder('x')
      .externalInitializer('w2', 'FP32', [2], 'weights.bin', { offset: 8 })
      .buildGraph();
    model.graph?.initializer.push(...second.initializer);
    assert.deepEqual(checkExternalData(model, modelDir), [join(modelDir, 'weights.bin')]);
    assert.deepEqual(externalDataRefs(model), [
      { tensor: 'w', location: 'weights.bin', offset: 0, length: 8 },
      { tensor: 'w2', location: 'weights.bin', offset: 8 },
    ]);

    const badOffset = modelWithWeights('weights.bin');
    badOffset.graph?.initializer[0]?.externalData.push(
      create(StringStringEntryProtoSchema, { key: 'offset', value: '-1' }),
    );
    assert.throws(() => checkExternalData(badOffset, modelDir), invalidModel(/invalid offset '-1'/));

    const noLocation = modelWithWeights('weights.bin');
    const entries = noLocation.graph?.initializer[0]?.externalData;
    entries?.splice(0, entries.length);
    assert.throws(
      () => checkExternalData(noLocation, modelDir),
      invalidModel(/'w' is stored externally but names no location/),
    );
  }),
);
