/**
 * A real Postgres for the ledger's tests, started from Debian's `postgresql`
 * package (CI installs it; .ci/packages.sh): `initdb` into a temporary folder
 * and `pg_ctl start` on a free loopback port, with its socket in that folder
 * too, so it touches nothing of the machine's own clusters. Postgres refuses
 * to run as root, so under root the server runs as the regular test user.
 * A missing package is an error with the fix, never a skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asRegularUser, giveToRegularUser } from './regular-user.js';

export interface TestPostgres {
  port: number;
  /** postgres://cctl@127.0.0.1:PORT/DB for a fresh database made by `database()`. */
  database(name?: string): Promise<string>;
  stop(): void;
}

/** Debian installs each major under /usr/lib/postgresql/N/bin; the newest wins. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const bin = majors.map((m) => join(root, m, 'bin')).find((d) => existsSync(join(d, 'initdb')));
  if (!bin)
    throw new Error(
      "The ledger tests need Debian's postgresql package (initdb, pg_ctl): apt-get install -y postgresql (.ci/packages.sh installs it).",
    );
  return bin;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let counter = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'cctl-pg-'));
  giveToRegularUser(dir);
  const data = join(dir, 'data');
  const run = (cmd: string, args: string[]) => {
    const [first, ...rest] = [...asRegularUser, join(bin, cmd), ...args];
    const result = spawnSync(first!, rest, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${cmd} failed (exit ${result.status}): ${result.stderr || result.stdout}`);
  };
  // C locale and UTF-8: the ledger's text compares byte-wise, as SQLite's does.
  run('initdb', ['-D', data, '-U', 'cctl', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(
      asRegularUser[0] ?? join(bin, 'pg_ctl'),
      [...asRegularUser.slice(1), ...(asRegularUser.length ? [join(bin, 'pg_ctl')] : []), '-D', data, '-m', 'immediate', 'stop'],
      { timeout: 30_000 },
    );
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  return {
    port,
    async database(name = `t${process.pid}_${++counter}`) {
      execFileSync(join(bin, 'psql'), [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'cctl',
        '-d',
        'postgres',
        '-qc',
        `CREATE DATABASE ${name}`,
      ]);
      return `postgres://cctl@127.0.0.1:${port}/${name}`;
    },
    stop,
  };
}
