/**
 * tend as a user gets it: `npm pack` of a clean copy of the sources (so `prepare` builds from
 * scratch and the worktree's own dist/ is never touched), installed into an empty folder. Packed once
 * per state of the sources and installed once per tarball: both are cached under the OS temp folder,
 * keyed by content hashes, so every test file of a run (and the next run, when nothing changed) reuses
 * them. A lock folder keeps concurrent test processes from doing the work twice.
 *
 * The install is offline, from npm's cache (`npm ci` filled it), with ONNXRUNTIME_NODE_INSTALL=skip
 * (onnxruntime-node's CPU binaries ship in its package). Install scripts are skipped: the only one
 * that matters is better-sqlite3's native build (60–80 s from source), so better-sqlite3 is pinned to
 * the version this checkout has installed and its addon is copied from there, then loaded to prove it
 * fits; when it does not, it is rebuilt from source as a plain install would.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ROOT = resolve(import.meta.dirname, '..');
const CACHE = join(tmpdir(), 'tend-installed-package');
/** What `npm pack` reads: the package's files and the build's inputs. */
const PACK_INPUTS = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  '.npmrc',
  'README.md',
  'CHANGELOG.md',
  'bin',
  'src',
  'assets',
  'proto',
];
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const LOCK_POLL_MS = 250;
/** Installs (about 300 MB each, onnxruntime-node's binaries) and tarballs unused this long are removed. */
const UNUSED_FOR_MS = 6 * 3600_000;

export interface InstalledPackage {
  /** The package's name, as `import()` takes it. */
  name: string;
  /** The folder it is installed in (`<dir>/node_modules/<name>`); run consumers with this as cwd. */
  dir: string;
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /** Milliseconds spent here: 0 for a stage the cache answered. */
  packMs: number;
  installMs: number;
}

function filesUnder(path: string, out: string[] = []): string[] {
  if (!existsSync(path)) return out;
  if (statSync(path).isDirectory())
    for (const name of readdirSync(path).sort()) filesUnder(join(path, name), out);
  else out.push(path);
  return out;
}

/** A hash of every file the pack reads: the same sources give the same tarball. */
function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of PACK_INPUTS.flatMap((p) => filesUnder(join(ROOT, p)))) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 20);
}

function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 20);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Run `work` holding the cache's lock (a folder: mkdir is atomic); a lock whose process died is taken over. */
async function withLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = join(CACHE, 'lock');
  mkdirSync(CACHE, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN);
      if (Number.isInteger(owner) && !alive(owner)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** `npm pack` of a fresh copy of the inputs (node_modules linked), so that `prepare` builds from a clean tree. */
async function pack(target: string): Promise<void> {
  const work = join(CACHE, `pack-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  const source = join(work, 'source');
  mkdirSync(source, { recursive: true });
  for (const p of PACK_INPUTS)
    if (existsSync(join(ROOT, p))) cpSync(join(ROOT, p), join(source, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  await run(NPM, ['pack', '--pack-destination', work], {
    cwd: source,
    env: process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball in ${work}`);
  renameSync(join(work, tarball), target);
  rmSync(work, { recursive: true, force: true });
}

function installedVersion(dir: string, pkg: string): string {
  return (
    JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

/** Does better-sqlite3 load and open a database in `dir`? */
async function sqliteLoads(dir: string): Promise<boolean> {
  try {
    await run(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: dir });
    return true;
  } catch {
    return false;
  }
}

/** Install the tarball into an empty folder, offline; see the header for better-sqlite3. */
async function install(tarball: string, target: string): Promise<void> {
  const dir = `${target}.tmp-${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const sqliteVersion = installedVersion(ROOT, 'better-sqlite3');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'tend-package-consumer',
        private: true,
        type: 'module',
        overrides: { 'better-sqlite3': sqliteVersion },
      },
      null,
      2,
    ),
  );
  const env = {
    ...process.env,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };
  const args = ['install', '--ignore-scripts', '--no-save', tarball];
  try {
    await run(NPM, [...args, '--offline'], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
  } catch {
    // Something is missing from npm's cache: let npm fetch only what it lacks.
    await run(NPM, [...args, '--prefer-offline'], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
  }
  const addon = join('build', 'Release', 'better_sqlite3.node');
  const prebuilt = join(ROOT, 'node_modules', 'better-sqlite3', addon);
  if (installedVersion(dir, 'better-sqlite3') === sqliteVersion && existsSync(prebuilt)) {
    mkdirSync(join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
    cpSync(prebuilt, join(dir, 'node_modules', 'better-sqlite3', addon));
  }
  if (!(await sqliteLoads(dir))) {
    await run(NPM, ['rebuild', 'better-sqlite3'], { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
    if (!(await sqliteLoads(dir))) throw new Error(`better-sqlite3 does not load in ${dir}`);
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(dir, target);
}

/** Mark `path` used now, and remove the other entries of its folder left unused for UNUSED_FOR_MS. */
function keepRecent(path: string): void {
  const now = new Date();
  utimesSync(path, now, now);
  const folder = resolve(path, '..');
  for (const name of readdirSync(folder)) {
    const other = join(folder, name);
    if (other !== path && now.getTime() - statSync(other).mtimeMs > UNUSED_FOR_MS)
      rmSync(other, { recursive: true, force: true });
  }
}

let installed: Promise<InstalledPackage> | undefined;

/**
 * The package packed from these sources and installed into an empty folder (cached; see the header).
 * @example const pkg = await installedPackage(); spawn(process.execPath, ['-e', "import('tend')"], { cwd: pkg.dir });
 */
export function installedPackage(): Promise<InstalledPackage> {
  installed ??= withLock(async () => {
    const name = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;
    mkdirSync(join(CACHE, 'packs'), { recursive: true });
    const tarball = join(CACHE, 'packs', `${name}-${inputsHash()}.tgz`);
    let packMs = 0;
    if (!existsSync(tarball)) {
      const started = performance.now();
      await pack(tarball);
      packMs = performance.now() - started;
    }
    const dir = join(CACHE, 'installs', fileHash(tarball));
    let installMs = 0;
    if (!existsSync(join(dir, 'node_modules', name, 'package.json'))) {
      const started = performance.now();
      mkdirSync(join(CACHE, 'installs'), { recursive: true });
      await install(tarball, dir);
      installMs = performance.now() - started;
    }
    keepRecent(tarball);
    keepRecent(dir);
    return { name, dir, tarball, packMs, installMs };
  });
  return installed;
}
