/**
 * The package works when installed: packed, installed into an empty folder (test/installed-package.ts),
 * then used as a user would — `import('tend-ml')` from plain Node, the `tend` bin, and the types from a
 * TypeScript consumer. Only what package.json exports is reachable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_MODELS, ROOT, tempDir } from './helpers.js';
import { installedPackage } from './installed-package.js';

const run = promisify(execFile);

/** The library surface, as src/index.ts declares it (types aside). */
const PUBLIC_VALUES = [
  'DATA_TYPES',
  'Engine',
  'Registry',
  'TEND_VERSION',
  'TendError',
  'optimize',
  'resolveHomeDir',
  'startServer',
  'train',
];

/** Run an ES module script with `node -e` in the install folder; its stdout parsed as JSON. */
async function consumer(dir: string, script: string, env: Record<string, string> = {}): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir,
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

test('the installed package: import, push, infer in process, serve', async (t) => {
  const pkg = await installedPackage();
  t.diagnostic(
    `pack ${Math.round(pkg.packMs)} ms, install ${Math.round(pkg.installMs)} ms (0: cached) — ${pkg.dir}`,
  );
  const home = tempDir('package-home', t);
  const script = `
    const tend = await import(${JSON.stringify(pkg.name)});
    const { Registry, Engine, startServer } = tend;
    const home = process.env.CONSUMER_HOME;
    const registry = await Registry.open(home, { actor: 'consumer' });
    const pushed = await registry.push(process.env.CONSUMER_MODEL, { name: 'digits', aliases: ['production'] });
    const models = (await registry.listModels()).map((m) => [m.name, m.latest_version, m.aliases]);
    await registry.close();
    const engine = await Engine.open({ home });
    const signature = await engine.signature('digits');
    const response = await engine.infer('digits@production', {
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [3, 64], data: new Float32Array(3 * 64).fill(0.5) }],
    });
    await engine.close();
    const server = await startServer({ home, config: { port: 0, grpc_port: 0 } });
    const ready = (await fetch(server.url + '/v2/models/digits/ready')).status;
    const grpc = typeof server.grpcAddress;
    const drained = await server.stop();
    const internals = await import(${JSON.stringify(`${pkg.name}/dist/engine/index.js`)}).then(() => 'reachable', (err) => err.code);
    console.log(JSON.stringify({
      exports: Object.keys(tend).sort(),
      pushed: [pushed.name, pushed.version, pushed.sha256.length],
      models,
      inputs: signature.inputs.map((s) => [s.name, s.datatype]),
      response: [response.model_name, response.model_version],
      outputs: response.outputs.map((o) => [o.name, o.datatype, o.shape, o.data.length, Array.from(o.data).every(Number.isFinite)]),
      ready, grpc, drained, internals,
    }));
  `;
  const seen = await consumer(pkg.dir, script, {
    CONSUMER_HOME: home,
    CONSUMER_MODEL: join(FIXTURE_MODELS, 'digits_mlp.onnx'),
    TEND_LOG_LEVEL: 'silent',
  });
  assert.deepEqual(seen, {
    exports: PUBLIC_VALUES,
    pushed: ['digits', 1, 64],
    models: [['digits', 1, { production: 1 }]],
    inputs: [['pixels', 'FP32']],
    response: ['digits', '1'],
    outputs: [['logits', 'FP32', [3, 10], 30, true]],
    ready: 200,
    grpc: 'string',
    drained: true,
    internals: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
  });
});

test('the installed bin runs the CLI from dist, through npx too, demo included', async () => {
  const pkg = await installedPackage();
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const { stdout } = await run(join(pkg.dir, 'node_modules', '.bin', 'tend'), ['--version'], {
    cwd: pkg.dir,
  });
  assert.equal(stdout.trim(), version);
  // The package's name is not its bin's: `npx tend` in the install folder finds this bin, never
  // the unrelated `tend` of the npm registry (--no-install: nothing is downloaded).
  const npx = await run('npx', ['--no-install', 'tend', '--version'], { cwd: pkg.dir });
  assert.equal(npx.stdout.trim(), version);
  const home = join(pkg.dir, `demo-home-${process.pid}`);
  try {
    const demo = await run('npx', ['--no-install', 'tend', 'demo', '--no-serve', '--json', '--home', home], {
      cwd: pkg.dir,
      timeout: 300_000,
    });
    const out = JSON.parse(demo.stdout) as Record<string, unknown>;
    assert.equal(out['name'], 'digits', demo.stdout);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a TypeScript consumer type-checks against the installed declarations', async (t) => {
  const pkg = await installedPackage();
  // A folder of this process inside the install, so that `tend` resolves from its node_modules.
  const dir = join(pkg.dir, 'consumers', String(process.pid));
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'consumer.ts'),
    `import { Engine, Registry, startServer, train, optimize, TendError, type InferRequest, type InferResponse, type ServerConfigInput, type Tensor } from ${JSON.stringify(pkg.name)};
const input: Tensor = { name: 'pixels', datatype: 'FP32', shape: [1, 64], data: new Float32Array(64) };
const request: InferRequest = { inputs: [input] };
const config: ServerConfigInput = { port: 0, grpc: false, limits: {} };
export async function main(): Promise<number[] | undefined> {
  const registry = await Registry.open('home');
  const pushed: number = (await registry.push('model.onnx', { name: 'digits' })).version;
  await train(registry, { data: 'data.csv', target: 'label', model: 'softmax', name: 'iris', epochs: pushed });
  const report = await optimize(registry, 'digits', { method: 'int8-dynamic' });
  await registry.close();
  const engine = await Engine.open({ home: 'home', config });
  const response: InferResponse = await engine.infer('digits', request);
  await engine.close();
  const server = await startServer({ config });
  await server.stop();
  return report.registered ? response.outputs[0]?.shape : undefined;
}
export const isTendError = (e: unknown): boolean => e instanceof TendError && e.code === 'TEND_MODEL_NOT_FOUND';
// @ts-expect-error the package exports its API only, not its internals
export type { Runtime } from ${JSON.stringify(`${pkg.name}/dist/runtime/index.js`)};
`,
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = [
    '--noEmit',
    '--strict',
    '--exactOptionalPropertyTypes',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--skipLibCheck',
  ];
  const types = ['--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node'];
  const result = await run(process.execPath, [tsc, ...flags, ...types, 'consumer.ts'], { cwd: dir }).then(
    () => '',
    (err: { stdout: string }) => err.stdout,
  );
  assert.equal(result, '');
});
