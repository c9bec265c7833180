/** Shared set-up for the integration tests: temporary repositories and homes, servers on loopback. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { z } from 'zod';
import { ServerConfigSchema } from '../src/core/config.js';
import { Engine } from '../src/engine/index.js';
import { startHttpServer, type RunningServer } from '../src/server/http/index.js';
import { startGrpcServer, type RunningGrpcServer } from '../src/server/grpc/index.js';
import { tempDir } from '../src/core/test-support.test-helper.js';

export { hasCode, seededRandom, tempDir } from '../src/core/test-support.test-helper.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const FIXTURE_MODELS = join(ROOT, 'fixtures', 'models');

/** The `tend` command from source, as the CLI tests run it. */
export const CLI = join(ROOT, 'src', 'cli', 'bin.ts');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Adds `--home <dir>` after the arguments. */
  home?: string | null;
  /** Added to this process's environment (NO_COLOR is always set). */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/**
 * Run `tend` as a user does: a child process (through tsx) with NO_COLOR, its exit status and output.
 * @example runCli(['models', '--json'], { home, env: { TEND_ACTOR: 'tester' } })
 */
export function runCli(args: readonly string[], options: CliOptions = {}): CliResult {
  const home = options.home ? ['--home', options.home] : [];
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args, ...home], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: options.timeoutMs ?? 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCli with `--json`: asserts exit 0 and returns the parsed output. */
export function runCliJson(args: readonly string[], options: CliOptions = {}): unknown {
  const r = runCli([...args, '--json'], options);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

export interface RepoModel {
  name: string;
  /** A path to copy or the bytes of the model. */
  model: string | Uint8Array;
  version?: number;
  config?: Record<string, unknown>;
}

/** A Triton-like repository `<dir>/<name>/<version>/model.onnx` (+ config.yaml). */
export function makeRepo(models: readonly RepoModel[], dir = tempDir('repo')): string {
  for (const m of models) {
    const vdir = join(dir, m.name, String(m.version ?? 1));
    mkdirSync(vdir, { recursive: true });
    if (typeof m.model === 'string') copyFileSync(m.model, join(vdir, 'model.onnx'));
    else writeFileSync(join(vdir, 'model.onnx'), m.model);
    if (m.config) writeFileSync(join(dir, m.name, 'config.yaml'), toYaml(m.config));
  }
  return dir;
}

export interface TestServer {
  engine: Engine;
  server: RunningServer;
  url: string;
  /** host:port of the gRPC frontend, when started with `grpc: true`. */
  grpcAddress: string;
  home: string;
  close(): Promise<void>;
}

/** An engine and an HTTP server on 127.0.0.1 with a free port, models loaded. */
export async function startTestServer(
  options: {
    repos?: string[];
    home?: string;
    config?: Partial<z.input<typeof ServerConfigSchema>>;
    grpc?: boolean;
  } = {},
): Promise<TestServer> {
  const home = options.home ?? tempDir('home');
  const config = ServerConfigSchema.parse({ ...options.config, port: 0, log_level: 'silent' });
  const engine = await Engine.open({ home, repos: options.repos ?? [], config });
  await engine.loadAll();
  const server = await startHttpServer(engine, {
    host: '127.0.0.1',
    port: 0,
    bodyLimitBytes: config.body_limit_bytes,
  });
  let grpc: RunningGrpcServer | undefined;
  if (options.grpc)
    grpc = await startGrpcServer(engine, {
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: config.body_limit_bytes,
    });
  return {
    engine,
    server,
    url: server.url,
    grpcAddress: grpc?.address ?? '',
    home,
    async close() {
      await grpc?.close(1000);
      await server.close();
      await engine.close();
      if (!options.home) rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** POST a binary-extension body: the JSON header (its length in Inference-Header-Content-Length), then the chunks. */
export async function postBinaryTo(url: string, header: unknown, chunks: Buffer[], headerLength?: string) {
  const json = Buffer.from(JSON.stringify(header));
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': headerLength ?? String(json.length),
    },
    body: Buffer.concat([json, ...chunks]),
  });
  const body = Buffer.from(await res.arrayBuffer());
  const length = res.headers.get('inference-header-content-length');
  if (length === null)
    return {
      status: res.status,
      json: JSON.parse(body.toString()) as Record<string, unknown>,
      binary: Buffer.alloc(0),
    };
  return {
    status: res.status,
    json: JSON.parse(body.subarray(0, Number(length)).toString()) as Record<string, unknown>,
    binary: body.subarray(Number(length)),
  };
}
