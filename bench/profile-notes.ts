/** Where `npm run bench:profile` writes its notes, which BENCHMARKS.md includes as they are. */
import { join } from 'node:path';
import { REPO_ROOT } from './servers.js';

export const PROFILE_NOTES = join(REPO_ROOT, 'bench', 'notes', 'where-time-goes.md');
