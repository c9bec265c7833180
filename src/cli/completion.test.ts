import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { completionScript } from './completion.js';
import { buildProgram } from './main.js';

/** What bash completes for the words typed so far (the last one being completed). */
function complete(script: string, typed: string[]): string[] {
  const words = typed.map((w) => `'${w}'`).join(' ');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${typed.length - 1}; _tend_complete; echo "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split(/\s+/).filter(Boolean);
}

test('bash: commands by position, subcommands, options of the command typed', () => {
  const script = completionScript(buildProgram(), 'bash');
  assert.deepEqual(complete(script, ['tend', 'mo']), ['models', 'monitor']);
  assert.deepEqual(complete(script, ['tend', 'models', '']), [
    'list',
    'show',
    'versions',
    'archive',
    'unarchive',
    'delete',
  ]);
  assert.deepEqual(complete(script, ['tend', 'deploy', 'canary', 'dm', '--max-']), [
    '--max-error-rate-increase',
    '--max-p99-ratio',
    '--max-quality-drop',
  ]);
  // Arguments typed after the command keep its options on offer.
  assert.ok(complete(script, ['tend', 'push', 'x.onnx', '--']).includes('--name'));
});

test('zsh reuses the bash functions; fish gets complete lines; other shells are refused', () => {
  const program = buildProgram();
  assert.match(
    completionScript(program, 'zsh'),
    /bashcompinit[\s\S]*complete -o default -F _tend_complete tend/,
  );
  const fish = completionScript(program, 'fish');
  assert.match(fish, /complete -c tend -n '__fish_seen_subcommand_from canary' -l min-requests/);
  assert.match(fish, /__fish_use_subcommand.* -a ".*\bserve\b.*"/);
  assert.throws(
    () => completionScript(program, 'tcsh'),
    (err: Error & { code?: string }) =>
      err.code === 'TEND_INVALID_ARGUMENT' && /bash, zsh, fish/.test(err.message),
  );
});
