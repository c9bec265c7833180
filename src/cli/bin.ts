/** Entry point of the `tend` command (bin/tend.js runs the compiled copy of this file). */
import { main } from './main.js';

// main() reports every error itself; this is the last resort should reporting fail too.
main(process.argv).catch((err: unknown) => {
  process.stderr.write(
    `error: ${(err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')}\n`,
  );
  process.exitCode = 2;
});
