/**
 * The dependency rule of the layers (see README "Architecture"), checked rather than remembered:
 *
 *   core ← onnx ← {registry, runtime, batching, monitor, optimize, train, security, tune, explain} ← engine ← server ← cli ← bench
 *
 * A module imports only from its own layer or from layers to its left; siblings in the middle row
 * never import each other (cli imports server only to start it); server and cli reach the middle row only
 * through the engine. Only runtime imports onnxruntime-node; server and cli reach neither
 * onnxruntime nor the database drivers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));

const RANK: Record<string, number> = {
  core: 0,
  onnx: 1,
  registry: 2,
  runtime: 2,
  batching: 2,
  monitor: 2,
  optimize: 2,
  train: 2,
  tune: 2,
  explain: 2,
  security: 2,
  engine: 3,
  server: 4,
  cli: 5,
  bench: 6,
};

/** The frontends go through the engine: these layers may import only the ones listed (and themselves). */
const FRONTEND_IMPORTS: Record<string, readonly string[]> = {
  server: ['core', 'engine'],
  cli: ['core', 'engine', 'server'],
};

/** Packages only some layers may import. */
const RESTRICTED_PACKAGES: Record<string, readonly string[]> = {
  'onnxruntime-node': ['runtime'],
  'better-sqlite3': ['registry', 'monitor'],
  kysely: ['registry', 'monitor'],
};

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function layerOf(file: string): string | null {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 ? (rel[0] ?? null) : null; // files at src/ root (index.ts) are the public API
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) found.push((m[1] ?? m[2]) as string);
  return found;
}

test('every layer imports only from the layers below it', () => {
  const violations: string[] = [];
  const files = sourceFiles(SRC).filter((f) => !f.endsWith('architecture.test.ts'));
  assert.ok(files.length > 0);
  for (const file of files) {
    const from = layerOf(file);
    if (from === null) continue;
    const fromRank = RANK[from];
    if (fromRank === undefined) {
      violations.push(`${relative(SRC, file)}: folder '${from}' is not a known layer`);
      continue;
    }
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) {
        const target = layerOf(resolve(dirname(file), spec));
        if (target === null || target === from) continue;
        const toRank = RANK[target];
        if (toRank === undefined || toRank >= fromRank) {
          violations.push(`${relative(SRC, file)} imports ${spec} (${from} → ${target})`);
        }
        const only = FRONTEND_IMPORTS[from];
        if (only && !only.includes(target) && !file.endsWith('.test.ts')) {
          violations.push(`${relative(SRC, file)} imports ${spec}: ${from} goes through the engine (${from} → ${target})`);
        }
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
        const allowed = RESTRICTED_PACKAGES[pkg];
        if (allowed && !allowed.includes(from) && !file.endsWith('.test.ts')) {
          violations.push(`${relative(SRC, file)} imports ${pkg}, which only ${allowed.join(', ')} may import`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});
