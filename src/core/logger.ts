/** Structured logs (pino). One logger per process; modules take a child with their own bindings. */
import { pino, destination, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** A JSON logger to stderr (stdout stays for command output). */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ level, base: { pid: process.pid } }, destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
