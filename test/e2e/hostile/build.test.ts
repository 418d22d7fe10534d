/**
 * Hostile workspace, class 2: every `build` sub-key of cctl's two services, written from inside claude-cli
 * (issue 19). The gateway's image holds the team key, so its build must never take anything from the
 * workspace; claude-cli's Dockerfile is the project's own (.cctl/Dockerfile.local is the team's place for
 * additions, and a change there rebuilds at the next up), but its build must never reach host files, the
 * host's SSH agent or network, or the private folder. Gateway cases run `cctl up --build`: their keys act
 * only when the gateway is built (after an update or a changed setting). claude-cli cases leave the loot in
 * /tmp/loot of the image, and the check reads it from the running container and from the tagged image.
 *
 * Attack first, on main f18142e: stopped: the gateway's context in the workspace, its BASE_IMAGE arg. Through:
 * the gateway's dockerfile (absolute path into the workspace) and dockerfile_inline, claude-cli's
 * build.tags overwriting the gateway's image. On main 67f6e90 all are refused; build.ssh only as "Compose
 * rejects the compose file" (Compose 2.26 cannot print it as JSON), until the trust check read it as YAML.
 * The claude-cli cases force the build with `cctl up --build`: an edit to .cctl/Dockerfile.local is itself a
 * change to confirm now (the fragment cases below: on main 6a56f80 they got through), so it cannot start the build.
 */
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  const tagged = await runSettled([
    'docker',
    'run',
    '--rm',
    '--entrypoint',
    'sh',
    `cctl-${s.name}-claude-cli:local`,
    '-c',
    'cat /tmp/loot 2>/dev/null; true',
  ]);
  t.false(running.stdout.includes(secret), `claude-cli holds the loot: ${running.stdout.slice(0, 200)}`);
  t.false(tagged.stdout.includes(secret), `the claude-cli image holds the loot: ${tagged.stdout.slice(0, 200)}`);
}

/**
 * What a build reaches that claude-cli cannot: a web service on the host's loopback (a build's ADD is fetched
 * by the engine, in the host's network), and another image on the engine (a COPY --from names any of them).
 */
const LOOPBACK_SECRET = `HostLoopbackOnly-${randomBytes(6).toString('hex')}`;
const loopback = createServer((_req, res) => res.end(LOOPBACK_SECRET)).listen(0, '127.0.0.1');
await once(loopback, 'listening');
const loopbackPort = (loopback.address() as AddressInfo).port;
const IMAGE_SECRET = `OtherImageOnly-${randomBytes(6).toString('hex')}`;
const otherImage = `cctl-hx-other-${randomBytes(4).toString('hex')}:local`;
e2e.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-hx-image-'));
  writeFileSync(join(dir, 'secret'), IMAGE_SECRET);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY secret /secret\n');
  await runSettled(['docker', 'build', '-q', '-t', otherImage, dir]);
  rmSync(dir, { recursive: true, force: true });
});
e2e.after.always(async () => {
  loopback.close();
  await runSettled(['docker', 'image', 'rm', '-f', otherImage]);
});

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
    title: "the gateway's dockerfile pointed at a file in the workspace (context kept)",
    v1: true,
    build: true,
    edits: (t) => [
      { write: '.cctl/gw.Dockerfile', text: `FROM cctl-${t.name}-proxy:local\nRUN echo pwned > /tmp/pwned\n` },
      gw('dockerfile', `${t.dir}/.cctl/gw.Dockerfile`),
    ],
    names: /gw\.Dockerfile/,
  },
  {
    title: 'the gateway built from dockerfile_inline',
    build: true,
    edits: (t) => [gw('dockerfile_inline', `|\nFROM cctl-${t.name}-proxy:local\nRUN echo pwned > /tmp/pwned`)],
    names: /dockerfile_inline/,
  },
  {
    title: "the gateway's build.extra_hosts: the npm registry's name resolves to the attacker while the gateway builds",
    build: true,
    edits: () => [gw('extra_hosts', '["registry.npmjs.org:203.0.113.7"]')],
    names: /extra_hosts|registry\.npmjs\.org/,
  },
  {
    title: "claude-cli's build.cache_to exports the build cache into the host HOME",
    build: true,
    edits: () => [cli('cache_to', `["type=local,dest=${v('HOME')}/.ssh/cache"]`)],
    names: /cache_to|\.ssh\/cache/,
    cliImageMayChange: true,
  },
  {
    title: "the gateway's BASE_IMAGE arg set to claude-cli's image (whose Dockerfile is the workspace's)",
    v1: true,
    build: true,
    edits: (t) => [{ set: FILE, path: ['services', 'proxy', 'build', 'args', 'BASE_IMAGE'], value: `cctl-${t.name}-claude-cli:local` }],
    names: /BASE_IMAGE/,
  },
  {
    title: "claude-cli's build.tags overwrite the gateway's image tag",
    build: true,
    edits: (t) => [cli('tags', `["cctl-${t.name}-proxy:local"]`)],
    names: /\btags\b/,
    cliImageMayChange: true,
  },
  {
    title: 'claude-cli build.additional_contexts naming the host HOME',
    build: true,
    edits: () => [cli('additional_contexts', `\nhosthome: ${v('HOME')}`)],
    names: /additional_contexts|hosthome/,
    cliImageMayChange: true,
    check: (t, s) => noLoot(t, s, 'HostileCorpusDecoyKeyOnly'),
  },
  {
    title: "claude-cli build.ssh loading the host user's private key as an agent",
    build: true,
    edits: () => [cli('ssh', `["default=${v('HOME')}/.ssh/id_ed25519"]`)],
    names: /id_ed25519|\bssh\b(?!-)/,
    cliImageMayChange: true,
    check: (t, s) => noLoot(t, s, 'AGENT-FORWARDED'),
  },
  {
    title: 'claude-cli build.secrets naming the private proxy.env',
    build: true,
    edits: () => [
      {
        set: FILE,
        path: ['secrets', 'teamkey', 'file'],
        value: `${v('HOME')}/.config/cctl/projects/${v('COMPOSE_PROJECT_NAME')}/proxy.env`,
      },
      cli('secrets', '[teamkey]'),
    ],
    names: /secrets|teamkey/,
    cliImageMayChange: true,
    check: (t, s) => noLoot(t, s, s.teamKey),
  },
  {
    title: "claude-cli build.network: host (the build's RUN on the host's network)",
    v1: true,
    build: true,
    edits: () => [cli('network', 'host')],
    names: /network\W+host/,
    cliImageMayChange: true,
    check: (t, s) => noLoot(t, s, 'docker0'),
  },
  {
    // No compose key at all: the team's own Dockerfile additions ask BuildKit for the host's network themselves.
    title: "RUN --network=host in .cctl/Dockerfile.local (the team's own build file, no compose change)",
    edits: () => [local('RUN --network=host cat /proc/net/dev > /tmp/loot || true')],
    names: /network\.host|network=host|Dockerfile\.local/,
    cliImageMayChange: true,
    check: (t, s) => noLoot(t, s, 'docker0'),
  },
  {
    // The team's build file edited from inside: no compose change, nothing BuildKit refuses. On main 6a56f80 up
    // rebuilt claude-cli with it (exit 0) and the image held what the host's loopback service answered. Now an
    // edit to .cctl/Dockerfile.local is a change to confirm (protected-paths.ts WATCHED_PATHS).
    title: "ADD of a URL on the host's loopback in .cctl/Dockerfile.local (the engine fetches it from the host)",
    v1: true,
    edits: () => [local(`ADD http://127.0.0.1:${loopbackPort}/secret /tmp/loot\nRUN chmod 644 /tmp/loot`)],
    names: /Dockerfile\.local/,
    cliImageMayChange: true,
    check: (t, s) => noLoot(t, s, LOOPBACK_SECRET),
  },
  {
    title: 'COPY --from another image on the engine in .cctl/Dockerfile.local',
    v1: true,
    edits: () => [local(`COPY --from=${otherImage} /secret /tmp/loot`)],
    names: /Dockerfile\.local/,
    cliImageMayChange: true,
    check: (t, s) => noLoot(t, s, IMAGE_SECRET),
  },
  {
    title: "claude-cli's build context set to the host HOME, with a Dockerfile from the workspace",
    v1: true,
    build: true,
    edits: (t) => [
      { write: '.cctl/home.Dockerfile', text: `FROM cctl-${t.name}-claude-cli:local\nCOPY .ssh/authorized_keys /tmp/loot\n` },
      cli('context', v('HOME')),
      cli('dockerfile', `${t.dir}/.cctl/home.Dockerfile`),
    ],
    // cctl writes the context itself: the merge refuses the edit to it before the trust check looks.
    names: /home\.Dockerfile|build\.context/,
    cliImageMayChange: true,
    check: (t, s) => noLoot(t, s, 'HostileCorpusDecoyKeyOnly'),
  },
]);
