import { readFileSync } from 'node:fs';

/** tend's version, read once from package.json (two folders above src/core and dist/core). */
export const TEND_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();
