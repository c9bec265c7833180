/**
 * The registry of a tend home opened for one management command (the CLI's push, alias, deploy,
 * archive, token… commands), with the caller recorded as the actor of what it changes. A running
 * server's registry is the one Engine.open opened; management commands need no models loaded.
 */
import { Registry } from '../../registry/index.js';

/** Open the home's registry, run `work` with it and close it. */
export async function withRegistry<T>(
  home: string,
  actor: string,
  work: (registry: Registry) => Promise<T>,
): Promise<T> {
  const registry = await Registry.open(home, { actor });
  try {
    return await work(registry);
  } finally {
    await registry.close();
  }
}
