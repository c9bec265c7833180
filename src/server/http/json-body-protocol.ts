/** Messages between the HTTP frontend and its body-parsing workers (json-body-pool.ts). */
import type { ErrorCode } from '../../core/errors.js';
import type { DecodedInferBody } from './infer-body.js';

export interface BodyJob {
  id: number;
  /** The body's bytes, transferred to the worker. */
  body: Uint8Array;
  headerLength: string | undefined;
}

export type BodyResult =
  | { id: number; ok: true; decoded: DecodedInferBody }
  | { id: number; ok: false; code: ErrorCode; message: string };
