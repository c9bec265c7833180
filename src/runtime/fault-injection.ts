/**
 * Test-only faults a session host can inflict on itself. They are honoured only when the process was
 * started with TEND_FAULT_INJECTION=1, so a production server cannot be crashed by a stray message.
 */
import { CRASH_EXIT_CODE, type WorkerCrashMode } from './protocol.js';

/** The environment variable that enables fault injection (value '1'). */
export const FAULT_INJECTION_ENV = 'TEND_FAULT_INJECTION';

/** True when this process may honour fault-injection requests. */
export function faultInjectionEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[FAULT_INJECTION_ENV] === '1';
}

const GROW_STEP_BYTES = 8 * 1024 * 1024;
const GROW_INTERVAL_MS = 10;
// A host that nobody kills stops growing here instead of taking the machine down.
const GROW_CAP_BYTES = 1024 * 1024 * 1024;

const held: Buffer[] = [];

/**
 * Make this thread or process fail the way `mode` describes; ignored (returns false) unless fault injection
 * is enabled.
 */
export function injectFault(mode: WorkerCrashMode): boolean {
  if (!faultInjectionEnabled()) return false;
  switch (mode) {
    case 'exit':
      // In a worker thread this ends the thread; in a child process, the process.
      process.exit(CRASH_EXIT_CODE);
      break;
    case 'throw':
      setImmediate(() => {
        throw new Error('crash requested by fault injection');
      });
      break;
    case 'abort':
      // SIGABRT for the whole OS process, as a native crash in onnxruntime would. (process.abort()
      // does the same but is not available in worker threads, and prints a native stack.)
      process.kill(process.pid, 'SIGABRT');
      break;
    case 'hang':
      // Blocks the event loop like a session.run that never returns.
      for (;;) {
        /* spin */
      }
    case 'grow': {
      // Off the V8 heap (Buffer memory), like onnxruntime's allocations: resourceLimits cannot see it.
      const timer = setInterval(() => {
        if (held.length * GROW_STEP_BYTES >= GROW_CAP_BYTES) {
          clearInterval(timer);
          return;
        }
        held.push(Buffer.alloc(GROW_STEP_BYTES, 1));
      }, GROW_INTERVAL_MS);
      break;
    }
  }
  return true;
}
