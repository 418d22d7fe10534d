/**
 * Asking the user yes or no on a terminal. Only where both stdin and stderr
 * are terminals: a script or CI gets no prompt and must pass the explicit
 * flag, since a run that silently assumes an answer is worse than one that stops.
 */
import { createInterface } from 'node:readline/promises';

export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** Prints `message` and asks `question` [y/N]; only "y" or "yes" is yes. */
export async function confirmOnTerminal(message: string, question: string): Promise<boolean> {
  if (!canPrompt()) return false;
  process.stderr.write(`${message}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** The confirm callback of init for guarded changes: a prompt on a terminal, else undefined (refuse). */
export function guardPrompt(file: string): ((changes: string) => Promise<boolean>) | undefined {
  if (!canPrompt()) return undefined;
  return (changes) =>
    confirmOnTerminal(
      `What would run for ${file} differs from what you accepted (+ added, - removed, ~ changed):\n${changes}\nAnything in claude-cli can edit the project's files.`,
      'Did you make these changes, and accept them?',
    );
}
