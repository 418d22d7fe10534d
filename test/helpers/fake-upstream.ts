/**
 * The fake Messages API (fake-messages.ts) in a container of the test's own,
 * published on a host port: e2e stacks reach it through the default bridge's
 * gateway address, whichever network they sit on.
 */
import { BASE_IMAGE } from './e2e.js';
import { run } from '../../lib/engine/runner.js';

export interface FakeUpstream {
  /** The host port Docker published for the fake's 8080. */
  port: string;
  /** The bridge's gateway address: the host as containers see it. */
  hostIp: string;
}

/** Runs /srv/fake.mjs from `srv` as container `name`; requests are recorded in `rec` when given. */
export async function startFakeUpstream(name: string, srv: string, rec?: string): Promise<FakeUpstream> {
  const recording = rec ? ['-v', `${rec}:/rec`] : [];
  await run([
    'docker',
    'run',
    '-d',
    '--name',
    name,
    '-p',
    '8080',
    '-v',
    `${srv}:/srv:ro`,
    ...recording,
    '--init',
    BASE_IMAGE,
    'node',
    '/srv/fake.mjs',
  ]);
  const port = /:(\d+)\s*$/m.exec((await run(['docker', 'port', name, '8080/tcp'])).stdout)![1]!;
  const hostIp = (await run(['docker', 'network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Gateway}}'])).stdout.trim();
  return { port, hostIp };
}
