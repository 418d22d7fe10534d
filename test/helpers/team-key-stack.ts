/**
 * The stack the security e2e files share, run as a regular user (dev under root) in team-key mode, the way
 * most people run cctl: a team's compose file that already has a front service of its own named `proxy`
 * and a fake Anthropic API (`fake-upstream`); cctl's gateway renamed to `cctl-proxy` with proxy-service;
 * a team key only in the private folder. Each file makes its own project, so the files run apart and in
 * any order; `start()` takes a file's stack to running, `cleanUp` is registered on the file's after hook.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from './e2e.js';
import { tempProject, removeProjectImages, type TempProject } from './project.js';
import { CLI, e2eEnv, composeCommand } from './cli.js';
import { FAKE_MESSAGES_API } from './fake-messages.js';
import { asRegularUser, giveToRegularUser, REGULAR_UID } from './regular-user.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';
import { scratchDir } from './scratch.js';

/** The team's file before cctl: its own front service called proxy, and a fake Anthropic API. */
export const USER_PROXY = `services:
  proxy:
    image: ${BASE_IMAGE}
    command: ["node", "-e", "require('http').createServer((q, s) => s.end('the team front')).listen(8081)"]
    init: true
  fake-upstream:
    image: ${BASE_IMAGE}
    command: ["node", "/srv/fake.mjs"]
    init: true
    volumes:
      - ./fake:/srv:ro
`;

/** init's arguments for team-key mode through the fake API, without the gateway's rename. */
export const TEAM_KEY_INIT = ['init', '--auth', 'team-key', '--upstream', 'http://fake-upstream:8080'];

export interface TeamKeyStack {
  tmp: TempProject;
  /** The regular user's HOME for this file: its private folder and up records land here. */
  home: string;
  privateDir: string;
  /** The project's compose file. */
  file: string;
  /** A key made for this run, so a grep for it finds nothing else. */
  teamKey: string;
  env: NodeJS.ProcessEnv;
  /** Runs argv as the regular user in the project folder; never rejects. */
  asUser(argv: string[], timeoutMs?: number): Promise<RunResult>;
  cctl(...args: string[]): Promise<RunResult>;
  /** Plain Compose on the committed file, profile claude. */
  compose(...args: string[]): Promise<RunResult>;
  /** sh -c SCRIPT inside claude-cli, as claude. */
  inCli(script: string): Promise<RunResult>;
  /** init with the renamed gateway, the team key written into proxy.env, the fake API and the team's proxy up, then cctl up. */
  start(): Promise<void>;
  /** claude-cli's one container, found by Compose's own labels: v2 names it <project>-claude-cli-1, v1 <project>_claude-cli_1. */
  cliContainer(): Promise<string>;
  /** What a change to claude-cli would show in `docker inspect`: the HostConfig fields that give it more of the host. */
  hostConfig(): Promise<string>;
}

/** A new project with the team's file in place, handed to the regular user; its containers, images and folders go after the file. */
export function teamKeyStack(prefix: string): TeamKeyStack {
  const tmp = tempProject(prefix);
  const home = scratchDir(`cctl-${prefix}-home-`);
  const privateDir = join(home, '.config', 'cctl', 'projects', tmp.name);
  const teamKey = `sk-ant-e2e-${Date.now().toString(36)}-team-key-never-in-claude-cli`;
  const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name, HOME: home });
  delete env.ANTHROPIC_API_KEY;
  delete env.ANTHROPIC_AUTH_TOKEN;
  const file = join(tmp.dir, 'compose.yaml');
  mkdirSync(join(tmp.dir, 'fake'));
  writeFileSync(join(tmp.dir, 'fake', 'fake.mjs'), FAKE_MESSAGES_API);
  writeFileSync(file, USER_PROXY);
  for (const dir of [home, tmp.dir]) giveToRegularUser(dir);

  const asUser = (argv: string[], timeoutMs = 900_000) => runSettled([...asRegularUser, ...argv], { cwd: tmp.dir, env, timeoutMs });
  const cctl = (...args: string[]) => asUser(['node', CLI, ...args]);
  const compose = (...args: string[]) => asUser([...composeCommand(env), '-f', file, '-p', tmp.name, '--profile', 'claude', ...args]);
  const inCli = (script: string) => compose('exec', '-T', 'claude-cli', 'sh', '-c', script);

  async function cliContainer(): Promise<string> {
    const filters = ['--filter', `label=com.docker.compose.project=${tmp.name}`, '--filter', 'label=com.docker.compose.service=claude-cli'];
    const ids = (await run(['docker', 'ps', '-aq', ...filters])).stdout.split('\n').filter(Boolean);
    if (ids.length !== 1) throw new Error(`expected one claude-cli container of ${tmp.name} by its Compose labels, found ${ids.length}`);
    return ids[0]!;
  }

  async function hostConfig(): Promise<string> {
    const fields = ['Privileged', 'PidMode', 'IpcMode', 'UsernsMode', 'NetworkMode', 'CapAdd', 'Devices', 'SecurityOpt', 'Binds', 'Mounts'];
    const r = await run(['docker', 'inspect', '--format', `{{json .HostConfig}}`, await cliContainer()]);
    const all = JSON.parse(r.stdout) as Record<string, unknown>;
    return JSON.stringify(fields.map((f) => [f, all[f]]));
  }

  async function start(): Promise<void> {
    await must(cctl(...TEAM_KEY_INIT, '--set', 'proxy-service=cctl-proxy'), 'cctl init');
    const proxyEnv = join(privateDir, 'proxy.env');
    writeFileSync(proxyEnv, readFileSync(proxyEnv, 'utf8').replace(/^ANTHROPIC_API_KEY=$/m, `ANTHROPIC_API_KEY=${teamKey}`));
    await must(compose('up', '-d', 'fake-upstream', 'proxy'), 'compose up of the team services');
    await must(cctl('up', '--timeout', '900'), 'cctl up');
  }

  e2e.after.always(async () => {
    const down = [...composeCommand(env), '-f', file, '-p', tmp.name, '--profile', 'claude', 'down', '-v', '--timeout', '1'];
    await run(down, { cwd: tmp.dir, env }).catch(() => undefined);
    await removeProjectImages(tmp.name);
    rmSync(home, { recursive: true, force: true });
    tmp.cleanup();
  });

  return { tmp, home, privateDir, file, teamKey, env, asUser, cctl, compose, inCli, start, cliContainer, hostConfig };
}

/** The regular user's UID (dev's 1500 under root): owner of what the stack makes on the host. */
export const HOST_UID = REGULAR_UID;

async function must(pending: Promise<RunResult>, what: string): Promise<void> {
  const r = await pending;
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}):\n${r.stderr}\n${r.stdout}`);
}
