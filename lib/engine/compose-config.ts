/**
 * The resolved model of an invocation (compose-client.ts `config`), kept for
 * the life of the process, keyed by everything the answer depends on: the
 * argv, the piped text, the environment and the bytes of the files it reads.
 * `cctl up` asks before its task list draws (to prompt) and again inside it;
 * the trust check asks the rendering's twice. A file written in between is a
 * new question. A Compose refusal becomes a CctlError with Compose's words.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CctlError } from '../kernel/errors.js';
import { tail } from '../kernel/text.js';
import { config, invocationArgv, type ComposeInvocation, type ComposeModel, type ConfigSource } from './compose-client.js';
import { ProcessError } from './runner.js';

const memo = new Map<string, Promise<ComposeModel>>();

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function keyOf(inv: ComposeInvocation, source: ConfigSource): string {
  const env = Object.entries(inv.env)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const files = source.input === undefined ? inv.files : inv.files.slice(1);
  const bytes = [...files, ...(source.withoutDotEnv ? [] : [join(inv.dir, '.env')])].map(readOrEmpty);
  return createHash('sha256')
    .update(JSON.stringify([invocationArgv(inv, []), source, env, bytes]))
    .digest('hex');
}

export function resolvedConfig(inv: ComposeInvocation, source: ConfigSource = {}): Promise<ComposeModel> {
  const key = keyOf(inv, source);
  let answer = memo.get(key);
  if (!answer) {
    answer = config(inv, source).catch((error: unknown) => {
      if (error instanceof ProcessError) {
        throw new CctlError(
          `Compose could not resolve the compose file: ${tail(error.stderr || error.stdout, 4, '\n  ') || `exit code ${error.exitCode}`}`,
          {
            hint: 'Fix what Compose names (plain "docker compose config" shows the same), then run the command again.',
            cause: error,
          },
        );
      }
      if (error instanceof SyntaxError || error instanceof Error)
        throw new CctlError(`Compose printed a model cctl cannot read: ${error.message}`, { cause: error });
      throw error;
    });
    memo.set(key, answer);
    answer.catch(() => memo.delete(key));
  }
  return answer;
}

/** Compose resolved the model but could not print it as JSON (see ConfigSource.yaml): ask for YAML. */
export function jsonUnprintable(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (/error calling MarshalJSON/.test(`${e.message}\n${e instanceof ProcessError ? e.stderr : ''}`)) return true;
  }
  return false;
}

/** Tests: forget every answer. */
export function resetResolvedConfig(): void {
  memo.clear();
}
