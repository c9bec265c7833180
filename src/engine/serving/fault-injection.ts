/**
 * The test hook that fails one worker instance of a served version, available only when tend runs
 * with TEND_FAULT_INJECTION=1: crash-safety and isolation tests use it to prove that a failing
 * instance never takes the server down.
 */
import { errors } from '../../core/errors.js';
import { faultInjectionEnabled, type InstanceCrashMode } from '../../runtime/index.js';
import type { ModelTable } from './model-table.js';

const FAULT_MODES: readonly string[] = ['exit', 'throw', 'abort', 'hang', 'grow', 'terminate'];

/** True when this process runs with TEND_FAULT_INJECTION=1 (the frontends register the hook's route only then). */
export function faultInjectionAvailable(): boolean {
  return faultInjectionEnabled();
}

/** Fail one instance of a served version (`mode`: how it fails). */
export async function injectFault(
  table: ModelTable,
  model: string,
  version: string | undefined,
  mode: string,
  instance: number,
): Promise<{ model: string; version: number; mode: string; instance: number }> {
  if (!faultInjectionEnabled())
    throw errors.forbidden('fault injection is off (start tend with TEND_FAULT_INJECTION=1, for tests only)');
  if (!FAULT_MODES.includes(mode))
    throw errors.invalidArgument(`mode '${mode}' must be one of ${FAULT_MODES.join(', ')}`);
  const sv = await table.resolve(model, version);
  sv.injectFault(mode as InstanceCrashMode, instance);
  return { model: sv.model, version: sv.version, mode, instance };
}
