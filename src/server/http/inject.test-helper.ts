/**
 * Route tests without a socket: the real Fastify app (buildHttpApp) on a small engine, driven with
 * `app.inject()`. Each test file opens one engine in `before` and closes it in `after`; what needs a
 * socket or a second process (keep-alive, slow bodies, hang-ups, gRPC, TLS) stays in test/.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { stringify as toYaml } from 'yaml';
import type { z } from 'zod';
import { ServerConfigSchema } from '../../core/config.js';
import { seededRandom, tempDir } from '../../core/test-support.test-helper.js';

export { seededRandom };
import { Engine } from '../../engine/index.js';
import { Registry } from '../../registry/index.js';
import { buildHttpApp } from './app.js';

/** fixtures/models/ at the repository root. */
export const FIXTURE_MODELS = fileURLToPath(new URL('../../../fixtures/models/', import.meta.url));
export const DIGITS_MLP = join(FIXTURE_MODELS, 'digits_mlp.onnx');
export const SMALL_CNN = join(FIXTURE_MODELS, 'small_cnn.onnx');

/** A model for the temporary registry home: pushed in the order given (the same name again is its next version). */
export interface RegistryModel {
  name: string;
  /** A path to push, or the bytes of the model. */
  model: string | Uint8Array;
  aliases?: string[];
}

/** A model for the temporary Triton-like repository `<dir>/<name>/<version>/model.onnx` (+ config.yaml). */
export interface RepositoryModel {
  name: string;
  model: string | Uint8Array;
  version?: number;
  config?: Record<string, unknown>;
}

export interface InjectAppOptions {
  registry?: readonly RegistryModel[];
  repository?: readonly RepositoryModel[];
  /** More set-up on the registry before the engine opens it (artifacts, trained models…). */
  prepare?: (registry: Registry) => Promise<void>;
  config?: Partial<z.input<typeof ServerConfigSchema>>;
}

export interface InjectApp {
  app: FastifyInstance;
  engine: Engine;
  home: string;
  /** The repository folder, when repository models were given. */
  repository: string | undefined;
  close(): Promise<void>;
}

function writeRepository(models: readonly RepositoryModel[]): string {
  const dir = tempDir('inject-repo');
  for (const m of models) {
    const versionDir = join(dir, m.name, String(m.version ?? 1));
    mkdirSync(versionDir, { recursive: true });
    if (typeof m.model === 'string') copyFileSync(m.model, join(versionDir, 'model.onnx'));
    else writeFileSync(join(versionDir, 'model.onnx'), m.model);
    if (m.config) writeFileSync(join(dir, m.name, 'config.yaml'), toYaml(m.config));
  }
  return dir;
}

/**
 * A temporary home (and repository), an engine with its models loaded, and the HTTP app on it, ready
 * for `inject` (never listening).
 * @example const t = await openInjectApp({ registry: [{ name: 'digits', model: DIGITS_MLP }] });
 */
export async function openInjectApp(options: InjectAppOptions = {}): Promise<InjectApp> {
  const home = tempDir('inject-home');
  const registryModels = options.registry ?? [];
  if (registryModels.length > 0 || options.prepare) {
    const registry = await Registry.open(home);
    try {
      for (const m of registryModels) {
        let path = m.model;
        if (typeof path !== 'string') {
          path = join(home, `upload-${m.name}.onnx`);
          writeFileSync(path, m.model);
        }
        await registry.models.push(path, { name: m.name, ...(m.aliases ? { aliases: m.aliases } : {}) });
      }
      await options.prepare?.(registry);
    } finally {
      await registry.close();
    }
  }
  const repository =
    options.repository && options.repository.length > 0 ? writeRepository(options.repository) : undefined;
  const config = ServerConfigSchema.parse({ ...options.config, port: 0, log_level: 'silent' });
  const engine = await Engine.open({ home, repos: repository ? [repository] : [], config });
  let app: FastifyInstance | undefined;
  try {
    await engine.loadAll();
    app = buildHttpApp(engine, { bodyLimitBytes: config.body_limit_bytes });
    await app.ready();
  } catch (err) {
    await app?.close();
    await engine.close();
    throw err;
  }
  const ready = app;
  return {
    app: ready,
    engine,
    home,
    repository,
    async close() {
      await ready.close();
      await engine.close();
      rmSync(home, { recursive: true, force: true });
      if (repository) rmSync(repository, { recursive: true, force: true });
    },
  };
}

export interface Injected {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** The parsed JSON answer, or `{raw: text}` when it is not JSON. */
  body: Record<string, unknown>;
  text: string;
}

/**
 * One request through `app.inject`: a string body is sent as it is, anything else as JSON.
 * @example const res = await injectJson(app, 'POST', '/v2/models/digits/infer', { inputs: [...] });
 */
export async function injectJson(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Injected> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await app.inject({
    method,
    url,
    ...(payload !== undefined
      ? { payload, headers: { 'content-type': 'application/json', ...headers } }
      : { headers }),
  });
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    parsed = { raw: res.body };
  }
  return { status: res.statusCode, headers: res.headers, body: parsed, text: res.body };
}

/** One digits_mlp request body: `rows` rows of 64 pixels from a seeded stream. */
export function digitsBody(seed = 1, rows = 1, id?: string): Record<string, unknown> {
  const r = seededRandom(seed);
  return {
    ...(id !== undefined ? { id } : {}),
    inputs: [
      {
        name: 'pixels',
        datatype: 'FP32',
        shape: [rows, 64],
        data: Array.from({ length: 64 * rows }, () => Math.fround(r())),
      },
    ],
  };
}
