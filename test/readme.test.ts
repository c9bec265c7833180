/**
 * The README keeps up with the code: every command and option of the CLI (as buildProgram() declares
 * them), every key of the server and model configuration schemas, and every TEND_* environment
 * variable the code reads appear in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { z } from 'zod';
import { buildProgram } from '../src/cli/main.js';
import { ModelConfigSchema, ServerConfigSchema } from '../src/core/config.js';
import { ROOT } from './helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('every command and every option of the CLI is in the README', () => {
  const missing: string[] = [];
  const walk = (command: Command, path: string[]) => {
    for (const sub of command.commands) {
      const here = [...path, sub.name()];
      if (!README.includes(`tend ${here.join(' ')}`)) missing.push(`tend ${here.join(' ')}`);
      for (const option of sub.options)
        if (option.long !== undefined && !README.includes(option.long))
          missing.push(`tend ${here.join(' ')} ${option.long}`);
      walk(sub, here);
    }
  };
  walk(buildProgram(), []);
  assert.deepEqual(missing, [], `not in the README: ${missing.join(', ')}`);
});

/** Key paths of an object schema, nested objects included ('limits.request_timeout_ms'). */
function keyPaths(schema: z.ZodType, prefix = ''): string[] {
  let inner = schema as unknown as {
    _zod: { def: { type: string; innerType?: unknown; in?: unknown; shape?: object } };
  };
  while (['optional', 'default', 'nullable', 'prefault', 'pipe'].includes(inner._zod.def.type))
    inner = (inner._zod.def.innerType ?? inner._zod.def.in) as typeof inner;
  if (inner._zod.def.type !== 'object') return [];
  return Object.entries(inner._zod.def.shape ?? {}).flatMap(([key, value]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return [path, ...keyPaths(value as z.ZodType, path)];
  });
}

test('every key of the configuration schemas is in the README', () => {
  const keys = [...keyPaths(ServerConfigSchema), ...keyPaths(ModelConfigSchema)];
  assert.ok(keys.length >= 50, `${keys.length} keys`);
  // Written out in full, or as its own name in code quotes (nested keys in a table of their parent).
  const missing = keys.filter((k) => !README.includes(k) && !README.includes(`\`${k.split('.').pop()}`));
  assert.deepEqual(missing, [], `not in the README: ${missing.join(', ')}`);
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.includes('.test') && !name.includes('.case.') ? [path] : [];
  });
}

test('every TEND_* environment variable the code reads is in the README', () => {
  const variables = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'src')))
    for (const match of readFileSync(file, 'utf8').matchAll(/['"`](TEND_[A-Z][A-Z0-9_]*)['"`]/g))
      if (match[1] !== undefined) variables.add(match[1]);
  assert.ok(variables.size >= 5, [...variables].join(', '));
  const missing = [...variables].filter((v) => !README.includes(v)).sort();
  assert.deepEqual(missing, [], `not in the README: ${missing.join(', ')}`);
});
