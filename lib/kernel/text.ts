/** Small text helpers shared by every layer's error messages. */

/**
 * The last lines of a child's output, for an error message: tools print the
 * reason last (compose, tar, docker), and a whole log drowns it. Blank lines
 * do not count.
 */
export function tail(text: string, lines = 3, separator = ' '): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim())
    .slice(-lines)
    .join(separator)
    .trim();
}

/** The first line of a message, for one-line summaries. */
export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
