/**
 * The proxy's secrets, in the project's private folder outside the project
 * tree (private-dir.ts says why): proxy.env (the client token and the team
 * key, the env_file of the proxy service only) and client.env (the client
 * token for claude-cli in team-key mode). Both mode 0600, tightened again on
 * every init. Existing values are never replaced: a user's key, once written,
 * stays. Files an older cctl wrote into .cctl/ are moved out, then deleted.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASSETS_DIR } from './model.js';
import { mkdirInside, readInside, removeInside, writeFileAtomic, writeInside } from '../kernel/fs.js';
import { ensurePrivateDir, privateDir } from './private-dir.js';
import type { Settings } from './settings.js';

export const SECRET_FILES = ['proxy.env', 'client.env'] as const;

export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

export function proxyEnvFile(projectName: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(privateDir(projectName, env), 'proxy.env');
}

/**
 * Moves .cctl/proxy.env and .cctl/client.env of an older cctl out of the tree.
 * A private file that already exists wins; the old copy is deleted either way.
 */
function moveLegacySecrets(projectDir: string, dir: string): string[] {
  const moved: string[] = [];
  for (const name of SECRET_FILES) {
    const legacy = join(projectDir, ASSETS_DIR, name);
    // Read and removed without following a link (the project is claude-cli's to write).
    const old = readInside(projectDir, legacy);
    if (old === undefined) continue;
    const target = join(dir, name);
    if (!existsSync(target)) writeFileAtomic(target, old, 0o600);
    removeInside(projectDir, legacy);
    moved.push(`${join(ASSETS_DIR, name)} -> ${target}`);
  }
  return moved;
}

export interface SecretsResult {
  /** Files written (absolute paths in the private folder, or relative ones in the project). */
  written: string[];
  /** Old in-tree secret files moved out. */
  moved: string[];
}

/** Creates or completes the env files, and tightens their modes. */
export function ensureSecrets(projectDir: string, projectName: string, s: Settings, env: NodeJS.ProcessEnv): SecretsResult {
  const written: string[] = [];
  mkdirInside(projectDir, join(projectDir, ASSETS_DIR));
  const ignore = join(projectDir, ASSETS_DIR, '.gitignore');
  if (readInside(projectDir, ignore) === undefined) {
    writeInside(
      projectDir,
      ignore,
      '# Nothing secret lives here any more (see ~/.config/cctl/projects/); kept for older files.\n*.env\n*.bak\n',
    );
    written.push(join(ASSETS_DIR, '.gitignore'));
  }
  if (s.proxy === 'external') return { written, moved: [] };
  const dir = ensurePrivateDir(projectName, env);
  const moved = moveLegacySecrets(projectDir, dir);

  const proxyFile = join(dir, 'proxy.env');
  const current = existsSync(proxyFile) ? readFileSync(proxyFile, 'utf8') : '';
  const values = parseEnvFile(current);
  let text = current;
  if (!current) {
    text =
      '# Read only by the proxy service; it is outside the project, so claude-cli cannot reach it.\n' +
      '# Team-key mode: put the team credential here (one of the two), then "cctl up".\n';
  }
  const add = (line: string) => {
    text += (text.endsWith('\n') || text === '' ? '' : '\n') + `${line}\n`;
  };
  if (!values.get('CCTL_CLIENT_TOKEN')) add(`CCTL_CLIENT_TOKEN=${randomBytes(24).toString('base64url')}`);
  if (s.auth === 'team-key' && !values.get('ANTHROPIC_API_KEY') && !values.get('ANTHROPIC_AUTH_TOKEN')) {
    // Taken from the environment of the person running init, if they have one.
    if (env.ANTHROPIC_API_KEY) add(`ANTHROPIC_API_KEY=${env.ANTHROPIC_API_KEY}`);
    else if (env.ANTHROPIC_AUTH_TOKEN) add(`ANTHROPIC_AUTH_TOKEN=${env.ANTHROPIC_AUTH_TOKEN}`);
    else if (!values.has('ANTHROPIC_API_KEY')) add('ANTHROPIC_API_KEY=');
  }
  if (text !== current) {
    writeFileAtomic(proxyFile, text, 0o600);
    written.push(proxyFile);
  }

  const token = parseEnvFile(text).get('CCTL_CLIENT_TOKEN')!;
  const clientFile = join(dir, 'client.env');
  const clientText = `# The per-project client token the proxy accepts (not the team key).\nANTHROPIC_AUTH_TOKEN=${token}\n`;
  if (s.auth === 'team-key' && (!existsSync(clientFile) || readFileSync(clientFile, 'utf8') !== clientText)) {
    writeFileAtomic(clientFile, clientText, 0o600);
    written.push(clientFile);
  }
  // Every init: a mode someone loosened (chmod, an editor, a copy) is tightened again.
  for (const name of SECRET_FILES) if (existsSync(join(dir, name))) chmodSync(join(dir, name), 0o600);
  return { written, moved };
}

/** The team credential in proxy.env, or undefined when there is none yet. */
export function teamKey(projectName: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = proxyEnvFile(projectName, env);
  if (!existsSync(file)) return undefined;
  const v = parseEnvFile(readFileSync(file, 'utf8'));
  return v.get('ANTHROPIC_API_KEY') || v.get('ANTHROPIC_AUTH_TOKEN') || undefined;
}

export function teamKeyMissing(projectName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = proxyEnvFile(projectName, env);
  if (!existsSync(file)) return true;
  const v = parseEnvFile(readFileSync(file, 'utf8'));
  return (
    !v.get('ANTHROPIC_API_KEY') && !v.get('ANTHROPIC_AUTH_TOKEN') && !v.get('ANTHROPIC_API_KEY_FILE') && !v.get('ANTHROPIC_AUTH_TOKEN_FILE')
  );
}
