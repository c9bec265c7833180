/** Entry point of the `tend` command (bin/tend.js runs the compiled copy of this file). */
import { main } from './main.js';

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
