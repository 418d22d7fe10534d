/**
 * A member's side of the team gateway: their project's proxy.env (in the
 * private folder, outside the project; see secrets.ts) gets the member token
 * as the credential the local gateway sends upstream, and the project's name
 * for the team gateway's ledger. claude-cli keeps its own client token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIP, isIPv6 } from 'node:net';
import { writeFileAtomic } from '../kernel/fs.js';
import { UsageError } from '../kernel/errors.js';
import { parseEnvFile, proxyEnvFile } from './secrets.js';

/** Where plain http may carry a member token: loopback, the private ranges and link-local. */
const PRIVATE = new BlockList();
for (const [address, prefix] of [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
] as const)
  PRIVATE.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(address, prefix, 'ipv6');

/**
 * Whether http:// to this host keeps the token on a private network: a
 * loopback, private or link-local address, or a single-label name (a
 * container, a host on the LAN's own DNS). Any other name may cross the
 * internet.
 */
export function privateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(host);
  if (family) return PRIVATE.check(host, isIPv6(host) ? 'ipv6' : 'ipv4');
  return host !== '' && !host.includes('.');
}

/**
 * The team gateway's URL, checked: https, or http to a private host (see
 * privateHost); plain http anywhere else only with --insecure-http, since
 * every request carries the member token.
 */
export function teamGatewayUrl(text: string, insecureHttp = false): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--team-gateway needs a URL, not "${text}".`, 'Example: cctl init --team-gateway https://gateway.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UsageError(`--team-gateway must be http:// or https://, not ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash)
    throw new UsageError('--team-gateway takes a plain URL: the member token goes in CCTL_MEMBER_TOKEN, never in the URL.');
  if (url.protocol === 'http:' && !insecureHttp && !privateHost(url.hostname)) {
    throw new UsageError(
      `--team-gateway ${url.origin} is plain http to a host that is not on a private network: your member token would cross it unencrypted with every request.`,
      'Use its https:// URL (on the server: cctl gateway init --tls-cert FILE --tls-key FILE, or a TLS reverse proxy; a self-signed certificate is trusted with --ca-cert FILE). ' +
        'On a network you trust, add --insecure-http.',
    );
  }
  return url.href.replace(/\/+$/, '');
}

export function checkMemberToken(token: string): string {
  const value = token.trim();
  if (!/^cctl_member_[A-Za-z0-9_-]{20,}$/.test(value)) {
    throw new UsageError(
      'That is not a member token (they start with cctl_member_).',
      'Ask your team admin: cctl gateway member add YOUR-NAME',
    );
  }
  return value;
}

/** True when proxy.env holds a member token (init --team-gateway) rather than a team key. */
export function holdsMemberToken(projectName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = proxyEnvFile(projectName, env);
  if (!existsSync(file)) return false;
  return (parseEnvFile(readFileSync(file, 'utf8')).get('ANTHROPIC_AUTH_TOKEN') ?? '').startsWith('cctl_member_');
}

/** Sets the member token and project name in proxy.env, replacing an older token or a team key. */
export function writeMemberCredential(projectName: string, token: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = proxyEnvFile(projectName, env);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const replaced = new Set([
    'ANTHROPIC_API_KEY',
    'ANTHROPIC_AUTH_TOKEN',
    'ANTHROPIC_API_KEY_FILE',
    'ANTHROPIC_AUTH_TOKEN_FILE',
    'CCTL_PROJECT_NAME',
  ]);
  const kept = current.split('\n').filter((line) => {
    const [name] = [...parseEnvFile(line).keys()];
    return !name || !replaced.has(name);
  });
  const text = `${kept.join('\n').replace(/\n*$/, '\n')}# The team gateway: this member's token (not the team key), and the project name for its ledger.\nANTHROPIC_AUTH_TOKEN=${token}\nCCTL_PROJECT_NAME=${projectName}\n`;
  if (text !== current) writeFileAtomic(file, text, 0o600);
  return file;
}
