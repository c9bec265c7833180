/**
 * Encryption at rest end to end: `tend keys rotate` turns encryption on for a home, a pushed model is
 * sealed on disk (no initializer bytes in the file), a server loads it from memory and logs sealed
 * features, `tend keys rotate` beside the running server re-seals every file with a new key, the
 * server then loads a version sealed with that key, and after a restart it serves with the rotated key file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { envelopeKeyId } from '../src/core/encryption.js';
import { ENCRYPTION_KEY_ENV, ENCRYPTION_KEY_FILE_ENV } from '../src/core/encryption-env.js';
import { optimizeVersion } from '../src/engine/index.js';
import { MONITOR_DB_FILE } from '../src/monitor/monitor-db.js';
import { readModelFile } from '../src/onnx/index.js';
import { Registry } from '../src/registry/index.js';
import {
  FIXTURE_MODELS,
  postJson,
  startTestServer,
  tempDir,
  type TestServer,
  runCli,
  type CliResult,
} from './helpers.js';

const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');
/** A feature pattern no other bytes of monitor.db would spell. */
const FEATURES = Array.from({ length: 64 }, (_, i) => Math.fround(0.1 + i * 0.01234567));
const FEATURE_BYTES = Buffer.from(new Float32Array(FEATURES).buffer);

const tend = (args: string[], env: Record<string, string | undefined>): CliResult =>
  runCli(args, { env: { TEND_ACTOR: 'tester', ...env } });

interface Rotation {
  created_key_file: boolean;
  active_key_id: string;
  previous_key_id: string | null;
  key_ids: string[];
  blobs: { files: number; resealed: number; encrypted: number; unchanged: number; failed: unknown[] };
  prediction_log: { blocks: number; resealed: number; encrypted: number; unchanged: number } | null;
}

/** 32-byte runs of the first initializer's raw bytes. */
function initializerRuns(): Buffer[] {
  const raw = readModelFile(DIGITS).graph?.initializer[0]?.rawData ?? new Uint8Array(0);
  const runs: Buffer[] = [];
  for (let at = 0; at + 32 <= raw.length; at += 16) runs.push(Buffer.from(raw.subarray(at, at + 32)));
  return runs;
}

function containsAny(bytes: Buffer, runs: Buffer[]): boolean {
  return runs.some((run) => bytes.includes(run));
}

/** 16-byte runs of the features as float32 (four values each). */
const featureRuns = Array.from({ length: 16 }, (_, i) => FEATURE_BYTES.subarray(i * 16, i * 16 + 16));

function monitorBytes(home: string): Buffer {
  const path = join(home, MONITOR_DB_FILE);
  return Buffer.concat(
    [path, `${path}-wal`].filter((p) => existsSync(p) && statSync(p).size > 0).map((p) => readFileSync(p)),
  );
}

async function infer(
  srv: TestServer,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return postJson(`${srv.url}/v2/models/${path}/infer`, {
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: FEATURES }],
  });
}

async function blobKeyIds(home: string): Promise<(string | null)[]> {
  const registry = await Registry.open(home);
  try {
    return (await registry.files.blobs.list())
      .filter((f) => f.kind === 'blob')
      .map((f) => envelopeKeyId(readFileSync(f.path)));
  } finally {
    await registry.close();
  }
}

describe('encryption at rest', () => {
  let dir: string;
  let home: string;
  let keyFile: string;
  let srv: TestServer | undefined;
  let expected: number[];

  before(() => {
    dir = tempDir('encryption');
    home = join(dir, 'home');
    keyFile = join(dir, 'tend.keys');
    // The server runs in this process and reads its keys from the environment, as tend serve does.
    process.env[ENCRYPTION_KEY_FILE_ENV] = keyFile;
  });

  after(async () => {
    await srv?.close();
    delete process.env[ENCRYPTION_KEY_FILE_ENV];
  });

  test('tend keys rotate needs a key file variable, and creates the key file on a new home', () => {
    const unset = tend(['keys', 'rotate', '--home', home], { [ENCRYPTION_KEY_FILE_ENV]: '' });
    assert.equal(unset.status, 1);
    assert.match(unset.stderr, /set TEND_ENCRYPTION_KEY_FILE to the key file/);
    const inline = tend(['keys', 'rotate', '--home', home], {
      [ENCRYPTION_KEY_FILE_ENV]: '',
      [ENCRYPTION_KEY_ENV]: 'AAAA',
    });
    assert.equal(inline.status, 1);
    assert.match(inline.stderr, /writes the new key to a file/);

    const created = tend(['keys', 'rotate', '--home', home, '--json'], {
      [ENCRYPTION_KEY_FILE_ENV]: keyFile,
    });
    assert.equal(created.status, 0, created.stderr);
    const result = JSON.parse(created.stdout) as Rotation;
    assert.equal(result.created_key_file, true);
    assert.equal(result.previous_key_id, null);
    assert.equal(result.blobs.files, 0);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  });

  test('a pushed model is sealed on disk, and the server serves it and logs features sealed', async () => {
    const registry = await Registry.open(home);
    try {
      const pushed = await registry.models.push(DIGITS, { name: 'digits' });
      const file = readFileSync(registry.files.blobs.pathFor(pushed.sha256));
      assert.equal(file.subarray(0, 8).toString('ascii'), 'TENDENC1');
      assert.ok(
        containsAny(readFileSync(DIGITS), initializerRuns()),
        'the scan finds the weights in the plaintext model',
      );
      assert.equal(containsAny(file, initializerRuns()), false, 'no 32-byte run of the weights is on disk');
    } finally {
      await registry.close();
    }

    srv = await startTestServer({ home });
    const res = await infer(srv, 'digits');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    expected = (res.body.outputs as { data: number[] }[])[0]?.data ?? [];
    assert.equal(expected.length, 10);
    await srv.engine.monitoring.app?.log.flush();
    assert.ok((srv.engine.monitoring.app?.log.count() ?? 0) >= 1);
    assert.equal(
      containsAny(monitorBytes(home), featureRuns),
      false,
      'no plaintext features in monitor.db or its WAL',
    );
  });

  test('tend keys rotate beside the running server re-seals everything; the server loads a version sealed with the new key', async () => {
    const server = srv as TestServer;
    const rotated = tend(['keys', 'rotate', '--home', home, '--json'], {
      [ENCRYPTION_KEY_FILE_ENV]: keyFile,
    });
    assert.equal(rotated.status, 0, rotated.stderr);
    const result = JSON.parse(rotated.stdout) as Rotation;
    assert.equal(result.created_key_file, false);
    assert.equal(result.key_ids.length, 2);
    assert.deepEqual(
      { files: result.blobs.files, resealed: result.blobs.resealed, failed: result.blobs.failed.length },
      { files: 1, resealed: 1, failed: 0 },
    );
    assert.ok((result.prediction_log?.resealed ?? 0) >= 1);
    assert.deepEqual(await blobKeyIds(home), [result.active_key_id]);

    // Still serving the version it loaded; a new version, sealed with the new key, loads too.
    assert.equal((await infer(server, 'digits')).status, 200);
    const registry = await Registry.open(home);
    try {
      const v2 = await registry.models.push(DIGITS, { name: 'digits', tags: { round: '2' } });
      assert.equal(v2.version, 2);
      assert.equal(
        envelopeKeyId(readFileSync(registry.files.blobs.pathFor(v2.sha256))),
        result.active_key_id,
      );
      // onnxruntime's offline optimization works on files: refused rather than writing plaintext out.
      await assert.rejects(optimizeVersion(registry, 'digits', '1', { method: 'int8-dynamic' }), {
        code: 'TEND_INVALID_ARGUMENT',
        message: /does not support an encrypted registry yet/,
      });
    } finally {
      await registry.close();
    }
    const second = await infer(server, 'digits/versions/2');
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.deepEqual((second.body.outputs as { data: number[] }[])[0]?.data, expected);
    await server.engine.monitoring.app?.log.flush();
    assert.equal(containsAny(monitorBytes(home), featureRuns), false);
  });

  test('after a restart with the rotated key file the server serves and reads its log; without the key it says which variable to set', async () => {
    await srv?.close();
    srv = await startTestServer({ home });
    const res = await infer(srv, 'digits');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual((res.body.outputs as { data: number[] }[])[0]?.data, expected);
    const window = srv.engine.monitoring.app?.log.window({ model: 'digits' });
    assert.ok((window?.count ?? 0) >= 3);
    assert.deepEqual([...(window?.features[0] ?? [])], FEATURES);
    await srv.close();

    delete process.env[ENCRYPTION_KEY_FILE_ENV];
    srv = await startTestServer({ home, config: { monitoring: { enabled: false } } });
    const refused = await infer(srv, 'digits');
    assert.equal(refused.status, 503);
    assert.match(
      String(refused.body.error),
      /model file of digits:\d is encrypted, but no key is configured; set TEND_ENCRYPTION_KEY_FILE/,
    );
    process.env[ENCRYPTION_KEY_FILE_ENV] = keyFile;
  });
});
