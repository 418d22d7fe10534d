/**
 * Is the team key readable from inside claude-cli? `cctl doctor` runs a scan
 * in the container, as the user claude, over everything claude-cli can read
 * that a key could land in: /workspace, its home, /tmp and every process's
 * environment and command line in /proc.
 *
 * The key itself never enters the container (that would defeat the check):
 * the scan gets a 26-bit rolling hash of it, which finds candidate windows in
 * linear time, and its SHA-256, which confirms one. Neither tells anything
 * useful about a key of a hundred characters.
 */
import { createHash } from 'node:crypto';
import { execCapture } from '../engine/compose-client.js';
import { projectInvocation } from './compose.js';
import { CLI_SERVICE, type Project } from '../project/locate.js';
import { proxyEnvFile, teamKey } from '../project/secrets.js';
import type { Settings } from '../project/settings.js';

const BASE = 257;
const MOD = 67_108_859; // a prime below 2^26: every product stays an exact double

export function rollingHash(bytes: Uint8Array): number {
  let h = 0;
  for (const b of bytes) h = (h * BASE + b) % MOD;
  return h;
}

/** Runs in claude-cli with node: argv is rolling hash, SHA-256 hex and length; prints JSON. */
export const SCAN_SCRIPT = String.raw`
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const [want, sha, lenText] = process.argv.slice(1);
const len = Number(lenText), B = ${BASE}, M = ${MOD};
let top = 1; for (let i = 1; i < len; i++) top = (top * B) % M;
const found = []; let files = 0, bytes = 0, skipped = 0;
const MAX_FILE = 64 * 1024 * 1024, MAX_TOTAL = 1024 * 1024 * 1024;
function scan(buf, where) {
  if (buf.length < len) return;
  let h = 0;
  for (let i = 0; i < len; i++) h = (h * B + buf[i]) % M;
  for (let i = 0; ; i++) {
    if (h === +want && crypto.createHash('sha256').update(buf.subarray(i, i + len)).digest('hex') === sha) { found.push(where); return; }
    if (i + len >= buf.length) return;
    h = ((h - (buf[i] * top) % M + M) % M * B + buf[i + len]) % M;
  }
}
function file(p) {
  try {
    const st = fs.lstatSync(p);
    if (!st.isFile()) return;
    if (st.size > MAX_FILE || bytes + st.size > MAX_TOTAL) { skipped++; return; }
    const buf = fs.readFileSync(p); files++; bytes += buf.length; scan(buf, p);
  } catch {}
}
function walk(dir) {
  let entries; try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p); else if (e.isFile()) file(p);
  }
}
for (const d of ['/workspace', process.env.HOME || '/home/claude', '/tmp']) walk(d);
for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
  for (const f of ['environ', 'cmdline']) {
    try { const buf = fs.readFileSync('/proc/' + pid + '/' + f); files++; scan(buf, '/proc/' + pid + '/' + f); } catch {}
  }
}
process.stdout.write(JSON.stringify({ found, files, bytes, skipped }));
`;

export interface ScanResult {
  /** Where the key's bytes were found; empty is the only good answer. */
  found: string[];
  files: number;
  bytes: number;
  /** Files too large to read (over 64 MiB, or past 1 GiB in all). */
  skipped: number;
}

export async function scanForSecret(project: Project, secret: string): Promise<ScanResult> {
  const bytes = Buffer.from(secret);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const { stdout } = await execCapture(
    await projectInvocation(project),
    { service: CLI_SERVICE, command: ['node', '-e', SCAN_SCRIPT, String(rollingHash(bytes)), sha, String(bytes.length)] },
    { timeoutMs: 300_000 },
  );
  return JSON.parse(stdout) as ScanResult;
}

export interface SecretCheck {
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** doctor's "secrets" check: in team-key mode with a key set, claude-cli must not be able to read it anywhere. */
export async function secretCheck(project: Project, s: Settings, running: boolean): Promise<SecretCheck> {
  if (s.auth !== 'team-key' || s.proxy === 'external')
    return { status: 'pass', detail: 'no team key in this mode (each user logs in, or the gateway is external)' };
  const key = teamKey(project.name);
  if (!key)
    return {
      status: 'warn',
      detail: `no team key set yet in ${proxyEnvFile(project.name)}`,
      fix: 'Put ANTHROPIC_API_KEY=... there, then "cctl up".',
    };
  if (!running) return { status: 'warn', detail: 'not checked: claude-cli is not running', fix: 'Run "cctl up".' };
  const result = await scanForSecret(project, key);
  const scope = `${result.files} files and process environments in /workspace, home, /tmp and /proc`;
  if (result.found.length > 0) {
    return {
      status: 'fail',
      detail: `the team key is readable from claude-cli at: ${result.found.slice(0, 5).join(', ')}${result.found.length > 5 ? ', ...' : ''}`,
      fix: `Remove it from there (it belongs only in ${proxyEnvFile(project.name)}), then rotate the key: anything in claude-cli may have read it.`,
    };
  }
  return {
    status: result.skipped ? 'warn' : 'pass',
    detail: `the team key is in none of ${scope}${result.skipped ? ` (${result.skipped} files too large to read)` : ''}`,
  };
}
