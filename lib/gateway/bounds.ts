/**
 * Bounds on the request-controlled text the gateway stores and logs: a
 * client can put anything in a body's `model` or in the project header, and
 * each value lands in a log line and a ledger row (and its daily roll-up
 * key), so each is cut to a documented length. Real model names are under
 * 40 characters, Compose project names under 64.
 */

/** Longest model name kept in a log line or ledger row (docs/CONTRACT.md). */
export const MODEL_NAME_LIMIT = 100;
/** Longest project name kept in a ledger row. */
export const PROJECT_NAME_LIMIT = 100;

/** Printable ASCII only (anything else becomes "?"), cut to `limit` characters. */
export function boundedText(text: string, limit: number): string {
  return text.slice(0, limit).replace(/[^\x20-\x7e]/g, '?');
}
