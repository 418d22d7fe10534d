/**
 * The proxy's secrets: .cctl/proxy.env (the client token and the team key,
 * read only by the proxy service) and .cctl/client.env (the client token for
 * claude-cli in team-key mode). Both mode 0600. Existing values are never
 * replaced: a user's key, once written, stays.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASSETS_DIR } from './model.js';
import { writeFileAtomic } from '../kernel/fs.js';
import type { Settings } from './settings.js';

export const PROXY_ENV = join(ASSETS_DIR, 'proxy.env');
export const CLIENT_ENV = join(ASSETS_DIR, 'client.env');

export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** Creates or completes the env files; returns the relative paths it wrote. */
export function ensureSecrets(projectDir: string, s: Settings, env: NodeJS.ProcessEnv): string[] {
  const written: string[] = [];
  mkdirSync(join(projectDir, ASSETS_DIR), { recursive: true });
  const ignore = join(projectDir, ASSETS_DIR, '.gitignore');
  if (!existsSync(ignore)) {
    writeFileAtomic(ignore, '# Secrets: never commit these.\n*.env\n*.bak\n');
    written.push(join(ASSETS_DIR, '.gitignore'));
  }
  if (s.proxy === 'external') return written;

  const proxyFile = join(projectDir, PROXY_ENV);
  const current = existsSync(proxyFile) ? readFileSync(proxyFile, 'utf8') : '';
  const values = parseEnvFile(current);
  let text = current;
  if (!current) {
    text =
      '# Read only by the proxy service. Mode 0600; keep it out of version control.\n' +
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
    written.push(PROXY_ENV);
  }
  chmodSync(proxyFile, 0o600);

  const token = parseEnvFile(text).get('CCTL_CLIENT_TOKEN')!;
  const clientFile = join(projectDir, CLIENT_ENV);
  const clientText = `# The per-project client token the proxy accepts (not the team key).\nANTHROPIC_AUTH_TOKEN=${token}\n`;
  if (s.auth === 'team-key') {
    if (!existsSync(clientFile) || readFileSync(clientFile, 'utf8') !== clientText) {
      writeFileAtomic(clientFile, clientText, 0o600);
      written.push(CLIENT_ENV);
    }
  }
  return written;
}

export function teamKeyMissing(projectDir: string): boolean {
  const file = join(projectDir, PROXY_ENV);
  if (!existsSync(file)) return true;
  const v = parseEnvFile(readFileSync(file, 'utf8'));
  return !v.get('ANTHROPIC_API_KEY') && !v.get('ANTHROPIC_AUTH_TOKEN') && !v.get('ANTHROPIC_API_KEY_FILE') && !v.get('ANTHROPIC_AUTH_TOKEN_FILE');
}
