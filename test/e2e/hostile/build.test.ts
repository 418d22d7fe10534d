/**
 * Hostile workspace, class 2: every `build` sub-key of cctl's two services, written from inside claude-cli
 * (issue 19). The gateway's image holds the team key, so its build must never take anything from the
 * workspace; claude-cli's Dockerfile is the project's own (.cctl/Dockerfile.local is the team's place for
 * additions, and a change there rebuilds at the next up), but its build must never reach host files, the
 * host's SSH agent or network, or the private folder. Gateway cases run `cctl up --build`: their keys act
 * only when the gateway is built (after an update or a changed setting). claude-cli cases leave the loot in
 * /tmp/loot of the image, and the check reads it from the running container and from the tagged image.
 *
 * Attack first, on main f18142e: the gateway's context moved into the workspace and its BASE_IMAGE arg are
 * stopped (landed). Through, on branch `corpus`: the gateway's dockerfile and dockerfile_inline, and
 * claude-cli's build.tags overwriting the gateway's image; the claude-cli build cases need a rerun there.
 */
import type { ExecutionContext } from 'ava';
import { e2e } from '../../helpers/e2e.js';
import { hostileSuite, type Edit, type Stack } from '../../helpers/hostile.js';
import { runSettled } from '../../../lib/engine/runner.js';

const FILE = 'compose.yaml';
const v = (name: string) => '${' + name + '}';
/** A key of a service's build section. */
const gw = (key: string, value: string): Edit => ({ set: FILE, path: ['services', 'proxy', 'build', key], value });
const cli = (key: string, value: string): Edit => ({ set: FILE, path: ['services', 'claude-cli', 'build', key], value });
/** The team's Dockerfile additions, a legitimate file to change (the next up rebuilds claude-cli). */
const local = (text: string): Edit => ({ write: '.cctl/Dockerfile.local', text: `USER root\n${text}\nUSER claude\n` });

/** What the built claude-cli image holds in /tmp/loot: the running container's, and the tagged image's. */
async function noLoot(t: ExecutionContext, s: Stack, secret: string): Promise<void> {
  const running = await s.cctl(['exec', '--', 'sh', '-c', 'cat /tmp/loot 2>/dev/null; true']);
  const tagged = await runSettled(['docker', 'run', '--rm', '--entrypoint', 'sh', `cctl-${s.name}-claude-cli:local`, '-c', 'cat /tmp/loot 2>/dev/null; true']);
  t.false(running.stdout.includes(secret), `claude-cli holds the loot: ${running.stdout.slice(0, 200)}`);
  t.false(tagged.stdout.includes(secret), `the claude-cli image holds the loot: ${tagged.stdout.slice(0, 200)}`);
}

hostileSuite(e2e, { prefix: 'build' }, [
  {
    title: "the gateway's build context moved into the workspace",
    v1: true,
    build: true,
    edits: (t) => [
      { write: '.cctl/gw/Dockerfile', text: `FROM cctl-${t.name}-proxy:local\nRUN echo pwned > /tmp/pwned\n` },
      gw('context', '.cctl/gw'),
    ],
    names: /\.cctl\/gw/,
  },
  {
    title: "the gateway's BASE_IMAGE arg set to claude-cli's image (whose Dockerfile is the workspace's)",
    v1: true,
    build: true,
    edits: (t) => [{ set: FILE, path: ['services', 'proxy', 'build', 'args', 'BASE_IMAGE'], value: `cctl-${t.name}-claude-cli:local` }],
    names: /BASE_IMAGE/,
  },
]);
