/**
 * How a failed command ends: the message (and hint) on stderr, and the exit
 * code. Shared by both ways in (cli.ts and pass-through.ts), and free of cac,
 * so the pass-through path does not load the parser to report an error.
 */
import { CctlError, EXIT_FAILED, EXIT_USAGE } from './kernel/errors.js';
import { isDebug } from './engine/runner.js';

export function report(error: unknown): number {
  if (error instanceof CctlError) {
    process.stderr.write(`cctl: ${error.message}\n`);
    if (error.hint) process.stderr.write(`${error.hint}\n`);
    if (isDebug() && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && error.name === 'CACError') {
    // cli.ts words unknown options itself (it has the argv); the rest of cac's complaints (a missing value) pass as cac says them.
    process.stderr.write(`cctl: ${error.message}\nRun "cctl --help" for usage, or "cctl COMMAND --help" for a command's options.\n`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cctl: ${message}\n`);
  if (isDebug() && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('Run again with --debug for details.\n');
  return EXIT_FAILED;
}
