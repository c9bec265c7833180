/**
 * The dependency rule of the layers (see README "Architecture"), checked rather than remembered:
 *
 *   core ← onnx ← {registry, runtime, batching, monitor, optimize, train, security} ← engine ← server ← cli ← bench
 *
 * A module imports only from its own layer or from layers to its left; siblings in the middle row
 * never import each other (cli imports server only to start it); server and cli reach the middle row only
 * through the engine. Only runtime imports onnxruntime-node; server and cli reach neither
 * onnxruntime nor the database drivers. There is no import cycle between files.
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

/** Folders left out of the cycle check: the benchmarks move out of src/ (Architecture item 8). */
const CYCLE_EXEMPT = ['bench'];

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
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
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
const IMPORTS = new Map(FILES.map((f) => [f, importsOf(f)] as const));

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
  assert.deepEqual(specifiersOf('probe.ts', text), ['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
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
        if (only && !only.includes(target) && !file.endsWith('.test.ts')) {
          violations.push(`${rel(file)} imports ${spec}: ${from} goes through the engine (${from} → ${target})`);
        }
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
        const allowed = RESTRICTED_PACKAGES[pkg];
        if (allowed && !allowed.includes(from) && !file.endsWith('.test.ts')) {
          violations.push(`${rel(file)} imports ${pkg}, which only ${allowed.join(', ')} may import`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
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

test('no import cycle between files (type imports included)', () => {
  const inScope = (file: string) => !CYCLE_EXEMPT.includes(layerOf(file) ?? '');
  const graph = new Map<string, string[]>();
  for (const file of FILES.filter(inScope)) {
    const targets = (IMPORTS.get(file) ?? []).filter((s) => s.startsWith('.')).map((s) => resolveRelative(file, s));
    graph.set(file, [...new Set(targets.filter((t) => IMPORTS.has(t) && inScope(t)))]);
  }
  assert.deepEqual(cyclesOf(graph).map((c) => loopThrough(c, graph)), []);
  // The check itself: a loop of two files is found and printed.
  const a = join(SRC, 'x', 'a.ts');
  const b = join(SRC, 'x', 'b.ts');
  const probe = new Map([[a, [b]], [b, [a]]]);
  assert.deepEqual(cyclesOf(probe).map((c) => loopThrough(c, probe)), ['x/a.ts → x/b.ts → x/a.ts']);
});
