import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lib/engine/runner.js';

/**
 * Load for the team gateway in end-to-end tests: Messages requests with a
 * member's token to a published port on 127.0.0.1, a fixed number at a fixed
 * concurrency, each bounded in time. The member's name goes in
 * x-cctl-project, so the fake upstream's record can be counted per member.
 */

export interface Tally {
  sent: number;
  ok: number;
  /** Replies by status; "error" for a request that got no reply (connection reset, timeout). */
  statuses: Record<string, number>;
  /** The first few failures, as the client saw them (status and body, or the error). */
  failures: string[];
  /** The request body's size, for the budget's estimate. */
  bodyBytes: number;
}

const BODY = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });

export async function askGateway(port: number, token: string, member: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-cctl-project': member,
    },
    body: BODY,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: r.status, text: await r.text() };
}

export async function load(port: number, token: string, member: string, options: { total: number; concurrency: number }): Promise<Tally> {
  const tally: Tally = { sent: 0, ok: 0, statuses: {}, failures: [], bodyBytes: Buffer.byteLength(BODY) };
  let next = 0;
  const worker = async () => {
    while (next < options.total) {
      next++;
      tally.sent++;
      const key = await askGateway(port, token, member).then(
        (r) => {
          if (r.status !== 200 && tally.failures.length < 5) tally.failures.push(`${r.status} ${r.text.slice(0, 200)}`);
          return String(r.status);
        },
        (error: Error) => {
          if (tally.failures.length < 5)
            tally.failures.push(`error ${error.message} ${String((error.cause as Error | undefined)?.message ?? '')}`);
          return 'error';
        },
      );
      tally.statuses[key] = (tally.statuses[key] ?? 0) + 1;
      if (key === '200') tally.ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.total) }, worker));
  return tally;
}

/**
 * What a test reads from a swarm-deployed gateway, from the engine and the
 * database, not from cctl: the running tasks of a service, SQL in the Postgres
 * task, the fake upstream's record (recDir/requests.jsonl) and a request made
 * inside one task, to that replica alone.
 */
export function stackProbe(stack: string, recDir: string) {
  /** The running task containers of one of the stack's services. */
  async function tasks(service: string): Promise<string[]> {
    const r = await run([
      'docker',
      'ps',
      '-q',
      '--filter',
      `label=com.docker.swarm.service.name=${stack}_${service}`,
      '--filter',
      'status=running',
    ]);
    return r.stdout.split('\n').filter(Boolean);
  }

  async function psql(sql: string): Promise<string> {
    const [pg] = await tasks('postgres');
    return (
      await run(['docker', 'exec', pg!, 'psql', '-h', '/run/postgresql', '-U', 'cctl', '-d', 'cctl', '-At', '-c', sql])
    ).stdout.trim();
  }
  const rows = async (member: string) => Number(await psql(`SELECT count(*) FROM requests WHERE member = '${member}'`));

  /** Messages requests the fake upstream answered so far (one line each; the gateway sends none of the member's headers on). */
  function answered(): number {
    const file = join(recDir, 'requests.jsonl');
    if (!existsSync(file)) return 0;
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { method: string; url: string })
      .filter((e) => e.method === 'POST' && e.url === '/v1/messages').length;
  }

  /** A request made inside one task's container, to that replica alone (not through the front). */
  async function inTask(
    id: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; text: string }> {
    const script = `fetch('http://127.0.0.1:3000${path}',{method:${body ? "'POST'" : "'GET'"},headers:${JSON.stringify(headers)}${body ? `,body:${JSON.stringify(body)}` : ''}}).then(async r=>process.stdout.write(JSON.stringify({status:r.status,text:await r.text()})))`;
    return JSON.parse((await run(['docker', 'exec', id, 'node', '-e', script])).stdout) as { status: number; text: string };
  }
  return { tasks, psql, rows, answered, inTask };
}
