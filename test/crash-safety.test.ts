/**
 * kill -9 safety. The registry: real `tend` CLI processes push (4 MB models and a small one, some
 * with one or two --alias), move aliases, create and revoke tokens, change routes, archive, delete
 * and gc on one home, and each is killed at a random moment of its work (after it opened the
 * database, within the time such a command takes), at least 50 times, with at least a few kills
 * of `push --alias`, `alias set` and `token revoke` each; after every command, killed or not, the
 * database passes integrity_check, every version's file is there and hashes to its sha256, no
 * half-written file sits under a final name, the registry opens and answers, and what the command
 * was asked for happened whole or not at all (fuzz/step-checks.ts): a version exists with every
 * alias its push asked for and its 'ok' audit entry, or neither exists. The prediction log: `tend serve`
 * under labelled traffic is killed several
 * times; monitor.db passes integrity_check and holds every row the server had acknowledged (by
 * feedback accepted for it, and the rows-written counter read from /metrics just before the kill).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { GraphBuilder, writeModel } from '../src/onnx/index.js';
import { Registry } from '../src/registry/index.js';
import {
  checkMonitorDb,
  checkRegistryHome,
  type HashCache,
  type RegistryState,
} from './fuzz/crash-checks.js';
import { FuzzRandom } from './fuzz/fuzz-random.js';
import { checkStep, type StepIntent } from './fuzz/step-checks.js';
import { HAS_PROC, runCli, type CliRun } from './fuzz/kill-points.js';
import { startServeProcess } from './fuzz/serve-process.js';
import { FIXTURE_MODELS, tempDir } from './helpers.js';

const SEED = Number(process.env['CRASH_SEED'] ?? 11);
// 50 kills of the registry's commands (the acceptance's count) plus 6 of the server for the prediction log.
const REGISTRY_KILLS = 50;
// Of those, at least this many of each command whose all-or-nothing is checked step by step.
const KILLS_OF_EACH = 3;
const MUST_KILL = ['push-alias', 'alias', 'token-revoke'] as const;
const SERVER_KILLS = 6;
const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');

/** A 4 MB model; `variant` changes one bias so that every push stores a new file. */
const WEIGHTS = Float32Array.from({ length: 1024 * 1024 }, (_, i) => Math.sin(i));
function bigModel(variant: number): Uint8Array {
  return writeModel(
    new GraphBuilder('big')
      .input('x', 'FP32', ['batch', 1024])
      .output('y', 'FP32', ['batch', 1024])
      .initializer('w', WEIGHTS, [1024, 1024])
      .initializer(
        'b',
        Float32Array.from({ length: 1024 }, (_, i) => (i === 0 ? variant : 0)),
        [1024],
      )
      .node('MatMul', ['x', 'w'], ['xw'])
      .node('Add', ['xw', 'b'], ['y'])
      .build(),
  );
}

interface Operation {
  kind: string;
  args: string[];
  /** What it asks for, checked after it finished or was killed. */
  intent?: StepIntent;
  /** Run before the command (gc: age the files so that unreferenced ones may go). */
  prepare?: () => void;
}

function ageFiles(home: string): void {
  const top = join(home, 'models', 'sha256');
  const past = new Date(Date.now() - 10 * 60_000);
  for (const prefix of readdirSync(top))
    for (const name of readdirSync(join(top, prefix))) utimesSync(join(top, prefix, name), past, past);
}

/** The next command, chosen from what the registry holds now (of kind `prefer` when given). */
function nextOperation(
  r: FuzzRandom,
  state: RegistryState,
  home: string,
  work: string,
  pushes: { n: number },
  prefer?: string,
): Operation {
  const live = state.versions.filter((v) => v.status !== 'archived');
  const of = (model: string) => live.filter((v) => v.model_name === model).map((v) => String(v.version));
  const any = state.versions.length > 0 ? r.pick(state.versions) : undefined;
  const kind =
    prefer ??
    r.weighted<string>([
      [12, 'push-big'],
      [10, 'push-alias'],
      [6, 'push-small'],
      [12, 'alias'],
      [8, 'token'],
      [12, 'deploy'],
      [8, 'archive'],
      [10, 'delete'],
      [15, 'gc'],
    ]);
  switch (kind) {
    case 'push-big':
    case 'push-alias': {
      const file = join(work, `big-${pushes.n}.onnx`);
      writeFileSync(file, bigModel(++pushes.n));
      // The real order: `tend push FILE --name NAME [--alias A]...`.
      const aliases = kind === 'push-big' ? [] : r.chance(0.5) ? ['staging'] : ['staging', 'candidate'];
      return {
        kind,
        args: ['push', file, '--name', 'big', ...aliases.flatMap((a) => ['--alias', a])],
        intent: { kind: 'push', model: 'big', aliases },
      };
    }
    case 'token': {
      const live = state.tokens.filter((t) => t.revoked_at === null);
      // `tend token revoke ID`; a new token to revoke when none is left.
      if (live.length === 0)
        return {
          kind: 'token-create',
          args: ['token', 'create', '--name', 'crash', '--scopes', 'read,infer'],
        };
      const id = r.pick(live).id;
      return { kind: 'token-revoke', args: ['token', 'revoke', id], intent: { kind: 'revoke', id } };
    }
    case 'push-small':
      return { kind, args: ['push', DIGITS, '--name', r.pick(['small', 'other'])] };
    case 'alias': {
      const model = r.pick(['big', 'small']);
      const versions = of(model);
      if (versions.length === 0) return { kind: 'push-small', args: ['push', DIGITS, '--name', 'small'] };
      // The real order: `tend alias set NAME ALIAS VERSION`.
      const alias = r.pick(['champion', 'staging']);
      const version = r.pick(versions);
      return {
        kind,
        args: ['alias', 'set', model, alias, version],
        intent: { kind: 'alias', model, alias, version: Number(version) },
      };
    }
    case 'deploy': {
      const versions = of('small');
      const v = versions.length > 0 ? r.pick(versions) : '1';
      const verb = r.weighted<string[]>([
        [3, ['canary', 'small', v, '--percent', String(r.int(0, 100))]],
        [2, ['rollback', 'small']],
        [1, ['shadow', 'small', v]],
      ]);
      return { kind, args: ['deploy', ...verb, '--reason', 'crash test'] };
    }
    case 'archive':
      if (!any) return { kind: 'gc', args: ['gc'], prepare: () => ageFiles(home) };
      return {
        kind,
        args: [
          'models',
          any.status === 'archived' ? 'unarchive' : 'archive',
          `${any.model_name}@${any.version}`,
        ],
      };
    case 'delete':
      if (!any) return { kind: 'gc', args: ['gc'], prepare: () => ageFiles(home) };
      return { kind, args: ['models', 'delete', `${any.model_name}@${any.version}`] };
    default:
      return { kind: 'gc', args: ['gc'], prepare: () => ageFiles(home) };
  }
}

function assertClean(run: CliRun, what: string): void {
  // 0: done; 1: refused as the user's mistake (an alias on a version to delete...). 2 would be tend's fault.
  assert.ok(run.code === 0 || run.code === 1, `${what} exited ${run.code}: ${run.stderr.slice(0, 1000)}`);
}

/** Open the registry as a command would and read everything: it must work after any kill. */
async function registryAnswers(home: string): Promise<void> {
  const registry = await Registry.open(home, { actor: 'crash-test' });
  try {
    for (const m of await registry.models.list()) await registry.models.listVersions(m.name);
    await registry.deployments.list();
  } finally {
    await registry.close();
  }
}

async function metricRows(url: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /^tend_prediction_log_rows_total (\d+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// The two loops use different homes: run them side by side.
describe('kill -9', { concurrency: 2 }, () => {
  test(
    `registry: ${REGISTRY_KILLS} kill -9 at random moments of push (--alias), alias set, token create/revoke, deploy, archive, delete and gc (seed ${SEED})`,
    { timeout: 900_000 },
    async () => {
      const home = tempDir('crash-home');
      const work = tempDir('crash-files');
      const cache: HashCache = new Map();
      const r = new FuzzRandom(SEED);
      const started = Date.now();
      try {
        // Calibration and a starting state: nothing killed.
        // How long each kind of command works once the database is open: the median of the runs that
        // finished (a maximum would put many kills after the exit on this busy machine).
        const samples: Record<string, number[]> = {};
        const workMs: Record<string, number> = {};
        const learn = (kind: string, run: CliRun): void => {
          if (run.openedAtMs === undefined) return;
          const list = (samples[kind] ??= []);
          list.push(run.exitedAtMs - run.openedAtMs);
          workMs[kind] = [...list].sort((a, b) => a - b)[list.length >> 1] as number;
        };
        const pushes = { n: 0 };
        for (const op of [
          { kind: 'push-small', args: ['push', DIGITS, '--name', 'small', '--alias', 'champion'] },
          { kind: 'push-small', args: ['push', DIGITS, '--name', 'small'] },
        ]) {
          const run = await runCli(op.args, home);
          assert.equal(run.code, 0, run.stderr);
          learn(op.kind, run);
        }
        let state = checkRegistryHome(home, cache).state;
        const kills: Record<string, number> = {};
        let killCount = 0;
        let finished = 0;
        let bystanders = 0;
        let maxTemp = 0;
        let cutCopies = 0;
        const startupMs: number[] = [];
        const enough = (): boolean =>
          killCount >= REGISTRY_KILLS && MUST_KILL.every((k) => (kills[k] ?? 0) >= KILLS_OF_EACH);
        for (let i = 0; !enough() && i < 400; i++) {
          // Past the 50 kills, the commands that still lack kills come next (a token revoke may first need a token).
          const lacking =
            killCount >= REGISTRY_KILLS ? MUST_KILL.find((k) => (kills[k] ?? 0) < KILLS_OF_EACH) : undefined;
          const op = nextOperation(
            r,
            state,
            home,
            work,
            pushes,
            lacking === 'token-revoke' ? 'token' : lacking,
          );
          op.prepare?.();
          // Now and then a second command runs alongside, never killed: it must get the lock and finish.
          // It moves an alias and pushes a model no killed command touches, so that each step's checks hold.
          const bystander = r.chance(0.2)
            ? runCli(
                r.chance(0.5)
                  ? ['alias', 'set', 'small', 'bystander', '1']
                  : ['push', DIGITS, '--name', 'other'],
                home,
              )
            : undefined;
          const fromSpawn = !HAS_PROC || r.chance(0.1);
          const window = fromSpawn ? 1500 : (workMs[op.kind] ?? 150);
          // Half the kills in the second half of the work, where copies, renames and commits happen.
          const run = await runCli(op.args, home, {
            afterMs: window * (r.chance(0.5) ? r.float() : 0.5 + 0.5 * r.float()),
            fromSpawn,
          });
          if (run.killed) {
            killCount++;
            kills[op.kind] = (kills[op.kind] ?? 0) + 1;
          } else {
            finished++;
            assertClean(run, `tend ${op.args.join(' ')}`);
            learn(op.kind, run);
          }
          if (bystander) {
            bystanders++;
            assertClean(await bystander, 'a command run beside a killed one');
          }
          const checked = checkRegistryHome(home, cache);
          assert.deepEqual(
            checked.problems,
            [],
            `after ${run.killed ? 'killing' : 'running'} tend ${op.args.join(' ')} (${i}):`,
          );
          assert.deepEqual(
            checkStep(state, checked.state, op.intent ?? { kind: 'other' }, run),
            [],
            `${run.killed ? 'killed' : 'ran'} tend ${op.args.join(' ')} (${i}):`,
          );
          if (run.killed && checked.state.tempFiles > state.tempFiles) cutCopies++;
          state = checked.state;
          maxTemp = Math.max(maxTemp, state.tempFiles);
          await registryAnswers(home);
          if (run.openedAtMs !== undefined) startupMs.push(run.openedAtMs);
        }
        // After it all, a collection runs to the end and leaves a registry that still checks out.
        ageFiles(home);
        const gc = await runCli(['gc', '--json'], home);
        assert.equal(gc.code, 0, gc.stderr);
        const final = checkRegistryHome(home, cache);
        assert.deepEqual(final.problems, []);
        assert.equal((await runCli(['models', 'list', '--json'], home)).code, 0);
        assert.ok(killCount >= REGISTRY_KILLS, `only ${killCount} kills landed`);
        for (const k of MUST_KILL)
          assert.ok((kills[k] ?? 0) >= KILLS_OF_EACH, `only ${kills[k] ?? 0} kills of ${k} landed`);
        console.log(
          `registry kill loop: ${killCount} kills (${Object.entries(kills)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}), ${finished} commands finished before their kill, ` +
            `${bystanders} bystanders, ${cutCopies} copies cut short (up to ${maxTemp} temp files at once, never under a final name), work windows ${JSON.stringify(Object.fromEntries(Object.entries(workMs).map(([k, v]) => [k, Math.round(v)])))} ms, ` +
            `${final.state.versions.length} versions at the end, median start-up ${Math.round(startupMs.sort((a, b) => a - b)[startupMs.length >> 1] ?? 0)} ms, ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
      } finally {
        rmSync(home, { recursive: true, force: true });
        rmSync(work, { recursive: true, force: true });
      }
    },
  );

  test(
    `prediction log: ${SERVER_KILLS} kill -9 of tend serve under labelled traffic keep every acknowledged row`,
    { timeout: 600_000 },
    async () => {
      const home = tempDir('crash-serve');
      const files = tempDir('crash-serve-config');
      const registry = await Registry.open(home, { actor: 'crash-test' });
      await registry.models.push(DIGITS, { name: 'digits' });
      await registry.close();
      const configFile = join(files, 'serve.yaml');
      writeFileSync(
        configFile,
        toYaml({
          monitoring: { refresh_interval_ms: 100 },
          model_defaults: { parameters: { intra_op_thread_count: 1 } },
        }),
      );
      const r = new FuzzRandom(SEED + 1);
      const acknowledged: string[] = [];
      let rowsBefore = 0;
      const lines: string[] = [];
      try {
        for (let life = 0; life < SERVER_KILLS; life++) {
          const serve = await startServeProcess({ home, configFile });
          const stop = { now: false };
          let metric = 0;
          const client = async (c: number): Promise<void> => {
            for (let n = 0; !stop.now; n++) {
              const id = `life${life}-c${c}-${n}`;
              const data = Array.from({ length: 10 * 64 }, (_, i) => ((i * 7 + n) % 17) / 16);
              try {
                const res = await fetch(`${serve.url}/v2/models/digits/infer`, {
                  method: 'POST',
                  body: JSON.stringify({
                    id,
                    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [10, 64], data }],
                  }),
                });
                if (res.status !== 200) continue;
                await res.arrayBuffer();
                const feedback = Array.from({ length: 10 }, (_, row) => ({ id, row, label: (n + row) % 10 }));
                const fb = await fetch(`${serve.url}/v2/models/digits/feedback`, {
                  method: 'POST',
                  body: JSON.stringify({ feedback }),
                });
                const body = (await fb.json()) as { accepted?: number };
                if (fb.status === 200 && body.accepted === 10) acknowledged.push(id);
              } catch {
                return; // the server is gone
              }
            }
          };
          const clients = Array.from({ length: 4 }, (_, c) => client(c));
          const poller = (async () => {
            while (!stop.now) {
              const m = await metricRows(serve.url);
              if (m !== undefined) metric = Math.max(metric, m);
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          })();
          await new Promise((resolve) => setTimeout(resolve, 400 + r.float() * 1200));
          const ackedBeforeKill = acknowledged.length;
          const metricBeforeKill = metric;
          serve.child.kill('SIGKILL');
          await new Promise((resolve) =>
            serve.exit ? resolve(undefined) : serve.child.once('exit', resolve),
          );
          stop.now = true;
          await Promise.all([...clients, poller]);
          const checked = checkMonitorDb(join(home, 'monitor.db'));
          assert.deepEqual(checked.problems, [], `after kill ${life + 1}`);
          // An acknowledgement leaves the server only after its transaction committed: every one must be there.
          const lost = acknowledged.filter((id) => checked.labelled.get(id) !== 10);
          assert.deepEqual(
            lost.slice(0, 5),
            [],
            `${lost.length} acknowledged requests lost rows or labels after kill ${life + 1}`,
          );
          assert.ok(
            checked.rows >= rowsBefore + metricBeforeKill,
            `${checked.rows} rows after kill ${life + 1}, but ${rowsBefore} before this server and ${metricBeforeKill} reported written`,
          );
          lines.push(
            `kill ${life + 1}: ${checked.rows - rowsBefore} rows kept (counter said ≥ ${metricBeforeKill}), ${ackedBeforeKill} labelled requests acknowledged so far`,
          );
          rowsBefore = checked.rows;
        }
        assert.ok(acknowledged.length > 0, 'traffic was acknowledged');
        // The home still serves after the last kill.
        const serve = await startServeProcess({ home, configFile });
        const ready = await fetch(`${serve.url}/v2/health/ready`);
        await serve.stop();
        assert.equal(ready.status, 200);
        console.log(`prediction log kill loop: ${SERVER_KILLS} kills; ${lines.join('; ')}`);
      } finally {
        rmSync(home, { recursive: true, force: true });
        rmSync(files, { recursive: true, force: true });
      }
    },
  );
});
