/**
 * Entry of a model child process (process isolation): a SessionHost reading and writing frames
 * (frame-codec.ts) on the pipe at fd FRAME_FD. The first message is `init`. The process never
 * outlives the server: it exits when the IPC channel closes (the server let go of it, or died), and
 * a watchdog thread SIGKILLs it when it is orphaned while its main thread is stuck (a hung run
 * cannot see `disconnect`).
 */
import { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { encodeFrame, FrameReader } from './frame-codec.js';
import { FRAME_FD, type FromWorker, type ToProcess } from './protocol.js';
import { SessionHost } from './session-host.js';

if (process.send === undefined)
  throw new Error('runtime/process-host must be started by ModelProcess (child_process.fork)');

/** How often the watchdog thread checks that the parent is still there. */
const ORPHAN_CHECK_MS = 1000;

// A plain CommonJS string: the watchdog must not depend on how this module was built or bundled.
const ORPHAN_WATCHDOG = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.ppid) process.kill(workerData.pid, 'SIGKILL');
}, workerData.intervalMs);
`;

function watchForOrphaning(): void {
  const watchdog = new Worker(ORPHAN_WATCHDOG, {
    eval: true,
    workerData: { ppid: process.ppid, pid: process.pid, intervalMs: ORPHAN_CHECK_MS },
    // The watchdog needs none of the parent's flags and must not keep the process alive.
    execArgv: [],
  });
  watchdog.unref();
}

function fatal(err: unknown): void {
  const text = err instanceof Error ? err.message : String(err);
  process.stderr.write(`tend model process ${process.pid}: uncaught error: ${text}\n`);
  process.exit(1);
}

const frames = new Socket({ fd: FRAME_FD, readable: true, writable: true });

function post(message: FromWorker): void {
  const buffers = encodeFrame(message);
  frames.cork();
  for (const buffer of buffers) frames.write(buffer);
  frames.uncork();
}

let host: SessionHost | null = null;
const reader = new FrameReader((received) => {
  const message = received as ToProcess;
  if (message.type === 'init') {
    process.title = `tend-model ${message.init.label}`;
    host ??= new SessionHost(message.init, post);
    return;
  }
  host?.receive(message);
});
frames.on('data', (chunk: Buffer) => reader.push(chunk));
// The server closed its end or is gone; so is the reason to live.
frames.on('end', () => process.exit(0));
frames.on('error', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
watchForOrphaning();
