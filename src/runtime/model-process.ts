/**
 * The main thread's handle on one child process serving one session (isolation `process`): the
 * batch protocol of the worker threads, as frames on a pipe (frame-codec.ts). Unlike a thread, a
 * process can be killed whatever it is doing, so this handle also enforces the hang deadline and the
 * memory limit, and whatever ends the process fails only the batches sent to it. Restart policy
 * lives in the owning instance.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { type TendError, errors } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { siblingModule, startProcessFrom } from '../core/worker-script.js';
import { encodeFrame, FrameReader } from './frame-codec.js';
import {
  liveBackends,
  type BackendEvents,
  type InstanceBackend,
  type WorkerNames,
  type WorkerRunResult,
} from './instance-backend.js';
import { PendingRuns, type PendingRun } from './pending-runs.js';
import {
  FRAME_FD,
  type FromWorker,
  type InstanceCrashMode,
  type ToProcess,
  type WorkerInit,
} from './protocol.js';

const PROCESS_HOST_URL = siblingModule(import.meta.url, 'process-host');

/**
 * The child's descriptors: no stdin, the server's stdout and stderr (onnxruntime's own messages),
 * the IPC channel (only its closing matters: the child exits when the server lets go or dies), and
 * at FRAME_FD the pipe that carries the frames.
 */
const STDIO = ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] as const;

/** hang_timeout_ms when the instance group sets none: a batch running this long is taken as hung. */
export const DEFAULT_HANG_TIMEOUT_MS = 30_000;
/** How often the resident memory of a child with a memory limit is checked. */
export const MEMORY_SAMPLE_MS = 500;
/** After its session is released and the channel closed, a child that has not exited by then is killed. */
const STOP_GRACE_MS = 5_000;

export interface ProcessLimits {
  /** The instance's index, named in error messages. */
  index: number;
  /** Kill the child when the batch at the head of its queue has run this long. */
  hangTimeoutMs: number;
  /** Kill the child when its resident set passes this many MiB (Linux: read from /proc). */
  memoryLimitMb?: number;
}

// Children of this process, killed when it exits so that none outlives the server.
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function killChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}

/** Resident set size of `pid` in MiB, or undefined where /proc cannot tell (not Linux, or the process is gone). */
export function residentMemoryMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** One child process with its session. */
export class ModelProcess implements InstanceBackend {
  private readonly child: ChildProcess;
  private readonly frames: Socket;
  private readonly pending = new PendingRuns();
  private readonly name: string;
  private sessionReady = false;
  private stopping = false;
  private ended = false;
  private killReason: string | null = null;
  private spawnError: Error | undefined;
  private hangTimer: NodeJS.Timeout | null = null;
  private memoryTimer: NodeJS.Timeout | null = null;
  private releaseDone: (() => void) | null = null;
  private releasing = false;
  private readonly exited: Promise<void>;
  private readonly loaded: Promise<WorkerNames>;
  private settleLoad!: { resolve: (names: WorkerNames) => void; reject: (err: TendError) => void };
  private markExited!: () => void;

  constructor(
    private readonly init: WorkerInit,
    private readonly limits: ProcessLimits,
    private readonly events: BackendEvents,
  ) {
    this.name = `model '${init.label}' instance ${limits.index}`;
    this.loaded = new Promise<WorkerNames>((resolve, reject) => {
      this.settleLoad = { resolve, reject };
    });
    // A failed load is reported to whoever awaits `loaded`; keep Node from flagging it meanwhile.
    this.loaded.catch(() => undefined);
    this.exited = new Promise<void>((resolve) => {
      this.markExited = resolve;
    });

    this.child = startProcessFrom(PROCESS_HOST_URL, { stdio: [...STDIO] }, ['onnxruntime-node']);
    const frames = this.child.stdio[FRAME_FD] as Socket | null | undefined;
    if (frames == null) {
      this.child.kill('SIGKILL');
      throw new Error('no pipe to the model process');
    }
    this.frames = frames;
    children.add(this.child);
    killChildrenOnExit();
    if (this.child.pid !== undefined) liveBackends.processStarted(this.child.pid);
    const reader = new FrameReader((message) => this.receive(message as FromWorker));
    this.frames.on('data', (chunk: Buffer) => reader.push(chunk));
    // EPIPE and the like once the child is gone: its exit fails what is pending.
    this.frames.on('error', () => undefined);
    this.child.on('error', (err) => {
      this.spawnError ??= err;
      // Without a pid the process never started and no 'exit' will follow.
      if (this.child.pid === undefined) this.onExit(null, null);
    });
    this.child.once('exit', (code, signal) => this.onExit(code, signal));
    this.send({ type: 'init', init });

    if (limits.memoryLimitMb !== undefined) {
      this.memoryTimer = setInterval(() => this.checkMemory(), MEMORY_SAMPLE_MS);
      this.memoryTimer.unref();
    }
  }

  /** Process id of the child (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  ready(): Promise<WorkerNames> {
    return this.loaded;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get alive(): boolean {
    return !this.ended;
  }

  run(inputs: readonly Tensor[]): Promise<WorkerRunResult> {
    if (this.ended || this.stopping || this.frames.destroyed) {
      return Promise.reject(errors.workerFailed(`${this.name} is not running; request failed`));
    }
    const id = this.pending.newId();
    return new Promise<WorkerRunResult>((resolve, reject) => {
      try {
        // The input arrays are written as they are (no copy, not detached): they must not change before the
        // run settles.
        this.write(encodeFrame({ type: 'run', id, inputs: [...inputs] } satisfies ToProcess));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        reject(errors.invalidInput(`cannot send inputs to model '${this.init.label}': ${reason}`));
        return;
      }
      this.pending.add(id, { resolve, reject });
      if (this.pending.size === 1) this.watchHead();
    });
  }

  async stop(): Promise<void> {
    if (this.stopping || this.ended) {
      await this.exited;
      return;
    }
    this.stopping = true;
    if (!this.sessionReady) {
      // Loading (or failed to load): no session to release, and a load can take long or hang.
      this.kill('the model was unloaded while its session was loading');
    } else {
      const released = new Promise<void>((resolve) => {
        this.releaseDone = resolve;
      });
      this.send({ type: 'release' });
      // Queued runs finish first, each under the hang deadline, and then the release itself is under it.
      this.releasing = true;
      if (this.pending.size === 0) this.watchHead();
      await released;
      this.frames.end();
      if (this.child.connected) this.child.disconnect();
      const grace = setTimeout(
        () => this.kill('it did not exit after its session was released'),
        STOP_GRACE_MS,
      );
      grace.unref();
      await this.exited;
      clearTimeout(grace);
    }
    await this.exited;
  }

  crash(mode: InstanceCrashMode): void {
    // 'terminate' stands for a kill from outside (the OOM killer, an operator's kill -9).
    if (mode === 'terminate') this.child.kill('SIGKILL');
    else this.send({ type: 'crash', mode });
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        // A session that does not fit its limit fails the load now, not at the next sample.
        if (this.checkMemory()) return;
        this.sessionReady = true;
        this.settleLoad.resolve({
          inputNames: message.inputNames,
          outputNames: message.outputNames,
          ...(message.warmupError !== undefined ? { warmupError: message.warmupError } : {}),
        });
        this.watchHead();
        break;
      case 'load-failed':
        this.settleLoad.reject(
          errors.modelLoadFailed(`failed to load model '${this.init.label}': ${message.message}`),
        );
        this.failPending(`${this.name} could not load the model (${message.message}); request failed`);
        break;
      case 'result':
        this.take(message.id)?.resolve({ outputs: message.outputs, computeNs: message.computeNs });
        break;
      case 'run-failed':
        this.take(message.id)?.reject(errors.inferenceFailed(this.init.label, message.message));
        break;
      case 'released':
        this.releasing = false;
        this.watchHead();
        this.releaseDone?.();
        break;
    }
  }

  /**
   * The child runs batches in the order they were sent, so the oldest pending one is the one
   * running (once the session is loaded): its deadline starts when it reaches the head. After the
   * last batch, a release asked for by stop() gets the same deadline.
   */
  private watchHead(): void {
    if (this.hangTimer !== null) {
      clearTimeout(this.hangTimer);
      this.hangTimer = null;
    }
    if (!this.sessionReady || this.ended || (this.pending.size === 0 && !this.releasing)) return;
    const timeoutMs = this.limits.hangTimeoutMs;
    const what = this.pending.size > 0 ? 'one batch ran' : 'releasing the session took';
    this.hangTimer = setTimeout(() => {
      this.hangTimer = null;
      this.kill(`${what} longer than ${timeoutMs} ms (hang_timeout_ms)`);
    }, timeoutMs);
    this.hangTimer.unref();
  }

  /** Kill the child if it is over its memory limit; true when it was. */
  private checkMemory(): boolean {
    const limitMb = this.limits.memoryLimitMb;
    const pid = this.child.pid;
    if (limitMb === undefined || pid === undefined || this.ended) return false;
    const rssMb = residentMemoryMb(pid);
    if (rssMb === undefined || rssMb <= limitMb) return false;
    this.kill(`resident memory ${Math.round(rssMb)} MB passed memory_limit_mb ${limitMb}`);
    return true;
  }

  private kill(reason: string): void {
    if (this.ended || this.killReason !== null) return;
    this.killReason = reason;
    this.child.kill('SIGKILL');
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    children.delete(this.child);
    if (this.child.pid !== undefined) liveBackends.processEnded(this.child.pid);
    if (this.hangTimer !== null) clearTimeout(this.hangTimer);
    if (this.memoryTimer !== null) clearInterval(this.memoryTimer);
    const what = this.describeEnd(code, signal);
    this.settleLoad.reject(
      errors.modelLoadFailed(
        `failed to load model '${this.init.label}': instance ${this.limits.index} ${what}`,
      ),
    );
    this.failPending(`${this.name} ${what}; request failed`);
    this.releaseDone?.();
    this.markExited();
    if (!this.stopping) this.events.onUnexpectedExit({ code, signal, reason: `model process ${what}` });
  }

  private describeEnd(code: number | null, signal: NodeJS.Signals | null): string {
    if (this.killReason !== null) return `was killed: ${this.killReason}`;
    const pid = this.child.pid;
    if (pid === undefined)
      return `could not start its process: ${this.spawnError?.message ?? 'unknown error'}`;
    return signal !== null
      ? `(process ${pid}) died from signal ${signal}`
      : `(process ${pid}) exited with code ${code}`;
  }

  private send(message: ToProcess): void {
    this.write(encodeFrame(message));
  }

  private write(buffers: readonly Buffer[]): void {
    // A closed pipe shows up as the child's exit, which fails what is pending.
    if (this.frames.destroyed) return;
    this.frames.cork();
    for (const buffer of buffers) this.frames.write(buffer);
    this.frames.uncork();
  }

  /** The run with this id, removed; the next one's hang deadline starts. */
  private take(id: number): PendingRun | undefined {
    const run = this.pending.take(id);
    if (run !== undefined) this.watchHead();
    return run;
  }

  private failPending(message: string): void {
    this.pending.failAll(() => errors.workerFailed(message));
  }
}
