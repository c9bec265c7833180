/**
 * The dependency rule of the layers (see README "Architecture"), checked rather than remembered:
 *
 *   core ← onnx ← {registry, runtime, batching, monitor, optimize, train, security, explain, tune}
 *     ← engine ← server ← {cli, api}
 *
 * A module imports only from its own layer or from layers to its left; siblings in the middle row
 * never import each other (cli imports server only to start it); server and cli reach the middle row only
 * through the engine. api (the library behind src/index.ts) goes through the engine and the server
 * too, and holds the registry facade for the scripts that open one; src/index.ts re-exports api/
 * and the core types the API names, nothing else. Only runtime imports onnxruntime-node; server and cli reach neither
 * onnxruntime nor the database drivers. There is no import cycle between files.
 *
 * Inside engine/, the rooms: serving ← {traffic, monitoring, jobs, access} ← workflows ← engine.ts,
 * index.ts. Serving imports no other room; the four rooms above it import only serving; workflows
 * (work that spans rooms) is imported only by engine.ts and index.ts, the only files at engine/'s
 * root. A file over 400 lines is asking to be split: at most three, each named below with why.
 *
 * The perf harness lives outside src/, in bench/ at the top (it does not ship): it imports src/ by
 * relative paths, nothing in src/ imports it, and its files import each other without a cycle too.
 *
 * Imports are read with the TypeScript compiler (static imports and re-exports, `import type`
 * included, and dynamic `import()` calls), not with a pattern over the text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = dirname(fileURLToPath(import.meta.url));
/** The perf harness behind `npm run bench`, beside src/. */
const BENCH = join(SRC, '..', 'bench');

const RANK: Record<string, number> = {
  core: 0,
  onnx: 1,
  registry: 2,
  runtime: 2,
  batching: 2,
  monitor: 2,
  optimize: 2,
  train: 2,
  security: 2,
  explain: 2,
  tune: 2,
  engine: 3,
  server: 4,
  cli: 5,
  api: 5,
};

/** The frontends go through the engine: these layers may import only the ones listed (and themselves). */
const FRONTEND_IMPORTS: Record<string, readonly string[]> = {
  server: ['core', 'engine'],
  cli: ['core', 'engine', 'server'],
  api: ['core', 'engine', 'server', 'registry'],
};

/** Packages only some layers may import. */
const RESTRICTED_PACKAGES: Record<string, readonly string[]> = {
  'onnxruntime-node': ['runtime'],
  'better-sqlite3': ['registry', 'monitor'],
  kysely: ['registry', 'monitor'],
};

/** The rooms of engine/ and the rooms each may import (besides itself). */
const ENGINE_ROOMS: Record<string, readonly string[]> = {
  serving: [],
  traffic: ['serving'],
  monitoring: ['serving'],
  jobs: ['serving'],
  access: ['serving'],
  workflows: ['serving', 'traffic', 'monitoring', 'jobs', 'access'],
};

/** The only files at the root of engine/: the wiring and the public names. */
const ENGINE_ROOT_FILES = ['engine.ts', 'index.ts'];

const MAX_LINES = 400;
/** Files allowed over MAX_LINES (at most three), with the reason each is one file. */
const LONG_FILES: Record<string, string> = {
  'cli/main.ts':
    "the CLI's command table: one commander declaration per command, each lazily importing its module so that `tend --help` stays instant",
};

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** A path relative to src/, with forward slashes. */
function rel(file: string): string {
  return relative(SRC, file).split(sep).join('/');
}

function layerOf(file: string): string | null {
  const parts = rel(file).split('/');
  return parts.length > 1 ? (parts[0] ?? null) : null; // files at src/ root (index.ts) are the public API
}

/** Every module specifier a file names: imports, re-exports (type-only ones too) and `import()` calls. */
function specifiersOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push(node.argument.literal.text); // `typeof import('./x.js')`
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function importsOf(file: string): string[] {
  return specifiersOf(file, readFileSync(file, 'utf8'));
}

/** The file a relative specifier names (`./x.js` → x.ts, `./dir` → dir/index.ts), or null outside src/. */
function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return base;
}

const FILES = sourceFiles(SRC).filter((f) => !f.endsWith('architecture.test.ts'));
const BENCH_FILES = sourceFiles(BENCH);
const IMPORTS = new Map([...FILES, ...BENCH_FILES].map((f) => [f, importsOf(f)] as const));

/**
 * Tests and their helpers (`*.test.ts`, `*.test-helper.ts`) may reach past the frontend rule to set up what
 * they test.
 */
function isTestCode(file: string): boolean {
  return file.endsWith('.test.ts') || file.endsWith('.test-helper.ts');
}

function isInside(dir: string, file: string): boolean {
  const r = relative(dir, file);
  return r !== '' && !r.startsWith('..') && !r.startsWith(sep);
}

test('the import reader sees every form of import', () => {
  const text = [
    "import a from './a.js';",
    "import type { B } from './b.js';",
    "export { c } from './c.js';",
    "export type * from './d.js';",
    "const e = await import('./e.js');",
    "type F = typeof import('./f.js');",
    "import './g.js';",
    "const notAnImport = 'import x from \\'./h.js\\'';",
    '// import y from "./i.js"',
  ].join('\n');
  assert.deepEqual(specifiersOf('probe.ts', text), [
    './a.js',
    './b.js',
    './c.js',
    './d.js',
    './e.js',
    './f.js',
    './g.js',
  ]);
});

test('every layer imports only from the layers below it', () => {
  const violations: string[] = [];
  assert.ok(FILES.length > 0);
  for (const file of FILES) {
    const from = layerOf(file);
    if (from === null) continue;
    const fromRank = RANK[from];
    if (fromRank === undefined) {
      violations.push(`${rel(file)}: folder '${from}' is not a known layer`);
      continue;
    }
    for (const spec of IMPORTS.get(file) ?? []) {
      if (spec.startsWith('.')) {
        const target = layerOf(resolveRelative(file, spec));
        if (target === null || target === from) continue;
        const toRank = RANK[target];
        if (toRank === undefined || toRank >= fromRank) {
          violations.push(`${rel(file)} imports ${spec} (${from} → ${target})`);
        }
        const only = FRONTEND_IMPORTS[from];
        if (only && !only.includes(target) && !isTestCode(file)) {
          violations.push(
            `${rel(file)} imports ${spec}: ${from} goes through the engine (${from} → ${target})`,
          );
        }
      } else {
        const pkg = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : (spec.split('/')[0] ?? spec);
        const allowed = RESTRICTED_PACKAGES[pkg];
        if (allowed && !allowed.includes(from) && !isTestCode(file)) {
          violations.push(`${rel(file)} imports ${pkg}, which only ${allowed.join(', ')} may import`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('src/index.ts (the public API) re-exports only api/, core/ and engine/index.ts', () => {
  const index = join(SRC, 'index.ts');
  const allowed = (target: string) => /^(api|core)\//.test(rel(target)) || rel(target) === 'engine/index.ts';
  const outside = (IMPORTS.get(index) ?? []).filter(
    (spec) => !spec.startsWith('.') || !allowed(resolveRelative(index, spec)),
  );
  assert.deepEqual(outside, []);
  assert.deepEqual(
    FILES.filter((f) => layerOf(f) === null).map(rel),
    ['index.ts'],
    'only index.ts stands at the root of src/',
  );
});

/** Strongly connected components of more than one file (Tarjan), each as a list of files. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return found;
}

/** One loop through a component, printed `a → b → … → a`, for the failure message. */
function loopThrough(component: readonly string[], graph: ReadonlyMap<string, readonly string[]>): string {
  const members = new Set(component);
  const start = [...component].sort()[0] as string;
  // Breadth-first from start back to start, inside the component.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    for (const next of graph.get(at) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [at];
        while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string);
        return [...path, start].map(rel).join(' → ');
      }
      if (!previous.has(next)) {
        previous.set(next, at);
        queue.push(next);
      }
    }
  }
  return component.map(rel).join(', ');
}

test('no import cycle between files (type imports included), in src/ and bench/', () => {
  const graph = new Map<string, string[]>();
  for (const file of [...FILES, ...BENCH_FILES]) {
    const targets = (IMPORTS.get(file) ?? [])
      .filter((s) => s.startsWith('.'))
      .map((s) => resolveRelative(file, s));
    graph.set(file, [...new Set(targets.filter((t) => IMPORTS.has(t)))]);
  }
  assert.deepEqual(
    cyclesOf(graph).map((c) => loopThrough(c, graph)),
    [],
  );
  // The check itself: a loop of two files is found and printed.
  const a = join(SRC, 'x', 'a.ts');
  const b = join(SRC, 'x', 'b.ts');
  const probe = new Map([
    [a, [b]],
    [b, [a]],
  ]);
  assert.deepEqual(
    cyclesOf(probe).map((c) => loopThrough(c, probe)),
    ['x/a.ts → x/b.ts → x/a.ts'],
  );
});

test('bench/ imports src/ by relative paths, and nothing in src/ imports bench/', () => {
  assert.ok(BENCH_FILES.length > 0, 'bench/ holds the perf harness');
  const violations: string[] = [];
  for (const file of FILES) {
    for (const spec of (IMPORTS.get(file) ?? []).filter((s) => s.startsWith('.'))) {
      if (!isInside(SRC, resolveRelative(file, spec)))
        violations.push(`${rel(file)} imports ${spec}, outside src/`);
    }
  }
  for (const file of BENCH_FILES) {
    for (const spec of IMPORTS.get(file) ?? []) {
      if (spec.startsWith('.')) {
        const target = resolveRelative(file, spec);
        if (!isInside(SRC, target) && !isInside(BENCH, target))
          violations.push(`${rel(file)} imports ${spec}, outside src/ and bench/`);
      } else if (/^(tend|#)/.test(spec)) {
        violations.push(`${rel(file)} imports ${spec}: bench/ reaches src/ by relative paths`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

/** The engine room of a file under src/engine/ (null at engine/'s root or outside engine/). */
function roomOf(file: string): string | null {
  const parts = rel(file).split('/');
  return parts[0] === 'engine' && parts.length > 2 ? (parts[1] ?? null) : null;
}

test("engine rooms: serving imports no other room, the rooms above it only serving, workflows only from engine's root", () => {
  const violations: string[] = [];
  for (const file of FILES.filter((f) => layerOf(f) === 'engine')) {
    const room = roomOf(file);
    if (room !== null && ENGINE_ROOMS[room] === undefined) {
      violations.push(`${rel(file)}: engine/${room}/ is not a known room`);
      continue;
    }
    for (const spec of (IMPORTS.get(file) ?? []).filter((s) => s.startsWith('.'))) {
      const target = resolveRelative(file, spec);
      if (layerOf(target) !== 'engine') continue;
      const to = roomOf(target);
      if (room === null || to === room) continue; // engine.ts and index.ts wire every room
      if (to === null) violations.push(`${rel(file)} imports ${spec}: a room never imports engine's root`);
      else if (!(ENGINE_ROOMS[room] ?? []).includes(to))
        violations.push(`${rel(file)} imports ${spec} (engine/${room} → engine/${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('only engine.ts and index.ts stand at the root of engine/', () => {
  const root = join(SRC, 'engine');
  const files = readdirSync(root).filter((name) => statSync(join(root, name)).isFile());
  assert.deepEqual(files.sort(), [...ENGINE_ROOT_FILES].sort());
  const rooms = readdirSync(root).filter((name) => statSync(join(root, name)).isDirectory());
  assert.deepEqual(
    rooms.filter((r) => ENGINE_ROOMS[r] === undefined),
    [],
  );
});

test('at most three files over 400 lines, each allowed with a reason', () => {
  assert.ok(Object.keys(LONG_FILES).length <= 3, 'the allow-list holds three files at most');
  const long = FILES.filter((f) => readFileSync(f, 'utf8').split('\n').length - 1 > MAX_LINES).map(rel);
  assert.deepEqual(
    long.filter((f) => LONG_FILES[f] === undefined),
    [],
    `files over ${MAX_LINES} lines: split them`,
  );
  // An allowed file that has shrunk leaves the list.
  assert.deepEqual(
    Object.keys(LONG_FILES).filter((f) => !long.includes(f)),
    [],
  );
});

test('the server uses engine APIs, never engine.registry', () => {
  const found: string[] = [];
  for (const file of FILES.filter((f) => layerOf(f) === 'server' && !f.endsWith('.test.ts'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (
        ts.isPropertyAccessExpression(node) &&
        node.name.text === 'registry' &&
        /engine$/i.test(node.expression.getText(source))
      ) {
        found.push(`${rel(file)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  assert.deepEqual(found, []);
});
