/** TLS material for both frontends, read once at start from the `security.tls_*` PEM files. */
import { readFileSync } from 'node:fs';
import type { SecurityConfig } from '../core/config.js';
import { errors } from '../core/errors.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** Present: clients must show a certificate signed by this CA (mutual TLS). */
  ca?: Buffer;
}

function readPem(what: string, path: string): Buffer {
  try {
    const bytes = readFileSync(path);
    if (!bytes.includes('-----BEGIN')) throw new Error('not a PEM file');
    return bytes;
  } catch (err) {
    throw errors.invalidConfig(
      `cannot read the TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/**
 * The PEM files of the config, or undefined without TLS. @throws TEND_INVALID_CONFIG for half a pair or an
 * unreadable file
 */
export function readTlsFiles(security: SecurityConfig): TlsFiles | undefined {
  const { tls_cert: cert, tls_key: key, tls_ca: ca } = security;
  if (cert === undefined && key === undefined) {
    if (ca !== undefined)
      throw errors.invalidConfig('security.tls_ca (mutual TLS) needs tls_cert and tls_key as well');
    return undefined;
  }
  if (cert === undefined || key === undefined)
    throw errors.invalidConfig(
      'TLS needs both security.tls_cert and security.tls_key (--tls-cert and --tls-key)',
    );
  return {
    cert: readPem('certificate', cert),
    key: readPem('key', key),
    ...(ca !== undefined ? { ca: readPem('CA certificate', ca) } : {}),
  };
}
