/**
 * cctl doctor: each check says pass, warn or fail, and what to do. Checks that
 * need something that failed earlier (the daemon, the file) say so instead of
 * piling up errors.
 */
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { OptionsFor } from './declarations/verbs.js';
import { caCertSource } from '../project/assets.js';
import { imageStaleness } from '../ops/build.js';
import { detectCompose, unsupportedPair } from '../engine/compose.js';
import { buildxVersion, daemonInfo, dataRoot, type DaemonInfo } from '../engine/daemon.js';
import { CctlError } from '../kernel/errors.js';
import { buildHashInFile, hasClaudeServices, storedSettings } from '../project/compose-file.js';
import { composeText } from '../project/compose-text.js';
import { findProject, hostTimeZone, CLI_SERVICE, type Project } from '../project/locate.js';
import { gatewayService } from '../project/model.js';
import { composeValidate, projectInvocation } from '../ops/compose.js';
import { execCapture } from '../engine/compose-client.js';
import type { Settings } from '../project/settings.js';
import { identityCheck, workbenchChecks } from '../ops/workbench-checks.js';
import { brokenServices, homeVolumeName, inspectServices, type ServiceState } from '../ops/stack.js';
import { secretCheck } from '../ops/secret-scan.js';
import { describeTrustChanges, reviewFileOnDisk } from '../ops/trust-check.js';
import { backupsInProject, privateDir } from '../project/private-dir.js';
import { volumeExists } from '../engine/volumes.js';
import { claudeIds } from '../project/machine-file.js';
import { ownerCheck, protectedPathsCheck, workspaceWriteCheck } from '../ops/machine-checks.js';
import { devcontainerCheck } from '../ops/devcontainer.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';
export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
const warn = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'warn', detail, fix });
const fail = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'fail', detail, fix });

function fromError(name: string, error: unknown): CheckResult {
  if (error instanceof CctlError) return fail(name, error.message, error.hint);
  return fail(name, (error as Error)?.message ?? String(error));
}

const GB = 1024 ** 3;

export async function runChecks(project: Project, env = process.env): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  let daemon: DaemonInfo | undefined;
  try {
    daemon = await daemonInfo();
    checks.push(pass('daemon', `Docker ${daemon.serverVersion}, API ${daemon.apiVersion}`));
  } catch (error) {
    checks.push(fromError('daemon', error));
  }
  const daemonOk = daemon !== undefined;
  try {
    // A diagnosis detects afresh rather than trusting the remembered answer.
    const c = await detectCompose(env);
    const broken = daemon && unsupportedPair(c, daemon);
    if (broken) checks.push(fromError('compose', broken));
    else checks.push(pass('compose', `${c.command.join(' ')} ${c.version} (${c.flavour})`));
  } catch (error) {
    checks.push(fromError('compose', error));
  }
  const needDaemon = (name: string) => warn(name, 'not checked: the daemon is not reachable');

  if (!daemonOk) checks.push(needDaemon('buildkit'));
  else {
    const buildx = await buildxVersion().catch(() => undefined);
    if (buildx) checks.push(pass('buildkit', buildx));
    else {
      checks.push(warn('buildkit', 'docker buildx is missing: images build with the classic builder (slower, still works)', 'Install the buildx plugin (docker-buildx-plugin, or docker-buildx on Debian).'));
    }
  }

  if (!daemonOk) checks.push(needDaemon('disk'));
  else {
    try {
      const root = await dataRoot();
      const local = !env.DOCKER_HOST || env.DOCKER_HOST.startsWith('unix://');
      const s = statfsSync(local ? root : project.dir);
      const free = s.bavail * s.bsize;
      const where = local ? root : `${project.dir} (the engine is remote)`;
      const text = `${(free / GB).toFixed(1)} GB free on ${where}`;
      if (free < 2 * GB) checks.push(fail('disk', text, 'The image needs about 1 GB to build. Free space, e.g. "docker system prune".'));
      else if (free < 5 * GB) checks.push(warn('disk', text, 'Consider "docker system prune".'));
      else checks.push(pass('disk', text));
    } catch (error) {
      checks.push(warn('disk', `could not read free space: ${(error as Error).message}`));
    }
  }

  let settings: Settings | undefined;
  try {
    settings = storedSettings(project);
    if (!project.exists) checks.push(fail('compose-file', `no compose file in ${project.dir} or any folder above it`, 'Run cctl inside the project (any subfolder works), use -f FILE, or start one with "cctl init".'));
    else if (!hasClaudeServices(project)) checks.push(warn('compose-file', `${project.file} has no claude services yet`, 'Run "cctl init".'));
    else checks.push(pass('compose-file', `${project.file} parses and holds the claude services`));
  } catch (error) {
    checks.push(fromError('compose-file', error));
  }
  if (project.exists && settings && checks.some((c) => c.name === 'compose' && c.status === 'pass')) {
    try {
      await composeValidate(project, composeText(project.file));
      checks.push(pass('compose-config', 'Compose accepts the file ("compose config")'));
    } catch (error) {
      checks.push(fail('compose-config', (error as Error).message, 'Fix what Compose names (cctl init --force rewrites the keys cctl owns).'));
    }
  }

  const s = settings;
  // Say which of the two is missing: naming the daemon when only the file is unreadable sends the user the wrong way.
  const unchecked = (name: string) => (daemonOk ? warn(name, 'not checked: the compose file could not be read') : needDaemon(name));
  if (!daemonOk || !s) checks.push(unchecked('image'));
  else {
    try {
      const stale = await imageStaleness(project, s, buildHashInFile(project));
      const bad = stale.filter((i) => i.reason !== 'current');
      if (bad.length === 0) checks.push(pass('image', stale.map((i) => i.image).join(', ')));
      else checks.push(warn('image', bad.map((i) => `${i.image} is ${i.reason}`).join('; '), '"cctl up" builds it (or "cctl build").'));
    } catch (error) {
      checks.push(fromError('image', error));
    }
  }

  if (!daemonOk || !s) checks.push(unchecked('volume'));
  else {
    const volume = homeVolumeName(project);
    try {
      checks.push(await volumeCheck(project, volume));
    } catch (error) {
      checks.push(fromError('volume', error));
    }
  }

  if (!s) checks.push(warn('proxy', 'not checked: the compose file could not be read'));
  else if (s.proxy === 'external') checks.push(warn('proxy', `external gateway ${s['proxy-url']}; not probed`));
  else if (!daemonOk) checks.push(needDaemon('proxy'));
  else {
    const [p] = await inspectServices(project, [gatewayService(s)]);
    if (!p || p.state === 'missing') checks.push(warn('proxy', 'the proxy is not running', 'Run "cctl up".'));
    else if (brokenServices([p]).length && p.state !== 'running') checks.push(fail('proxy', `the proxy ${stoppedText(p)}`, 'See why: "cctl logs proxy". Start it again: "cctl up".'));
    else if (p.state !== 'running') checks.push(warn('proxy', `the proxy is ${p.state}`, 'Run "cctl up".'));
    else if (p.health === 'healthy') checks.push(pass('proxy', `health endpoint answers (${s.proxy === 'builtin' ? 'GET /health' : s['proxy-health']})`));
    else checks.push(fail('proxy', `the proxy is ${p.health}${p.lastHealthOutput ? `: ${p.lastHealthOutput}` : ''}`, 'See "cctl logs proxy".'));
  }

  // A claude-cli that stopped on its own (or fails its health check) is a failure; none at all (after down) is not.
  if (s && daemonOk) {
    try {
      const [cli] = await inspectServices(project, [CLI_SERVICE]);
      if (!cli || cli.state === 'missing') checks.push(warn(CLI_SERVICE, 'no container: the stack is not up', 'Run "cctl up".'));
      else if (brokenServices([cli]).length) checks.push(fail(CLI_SERVICE, `${CLI_SERVICE} ${cli.state === 'running' ? `is unhealthy${cli.lastHealthOutput ? `: ${cli.lastHealthOutput}` : ''}` : stoppedText(cli)}`, `See why: "cctl logs ${CLI_SERVICE}". Start it again: "cctl up".`));
      else checks.push(pass(CLI_SERVICE, `${cli.container} is ${cli.state}${cli.health === 'none' ? '' : `, ${cli.health}`}`));
    } catch (error) {
      checks.push(fromError(CLI_SERVICE, error));
    }
  }

  if (!s) checks.push(warn('secrets', 'not checked: the compose file could not be read'));
  else if (!daemonOk) checks.push(needDaemon('secrets'));
  else {
    try {
      const [cli] = await inspectServices(project, [CLI_SERVICE]);
      const r = await secretCheck(project, s, cli?.state === 'running');
      checks.push({ name: 'secrets', ...r });
    } catch (error) {
      checks.push(fromError('secrets', error));
    }
  }
  try {
    const { changes, resolved } = await reviewFileOnDisk(project);
    if (changes.length) {
      checks.push(warn('trust', `${changes.length} change(s) since you last accepted this project, pending your yes at the next cctl up:\n${describeTrustChanges(changes)}`, 'If you made them: cctl up --accept-changes (or answer yes in a terminal); if not, undo them (git diff).'));
    } else if (resolved) checks.push(pass('trust', "what Compose would run for cctl's services is what you accepted"));
  } catch (error) {
    // A .env that sets cctl's variables, or a file Compose cannot resolve: said as such.
    checks.push(fromError('trust', error));
  }
  // The editor's devcontainer.json against the version accepted last (ops/devcontainer.ts).
  if (project.exists) checks.push(devcontainerCheck(project, { devcontainer: s?.devcontainer === true }));
  if (daemonOk && project.exists) {
    // What the per-machine file promises, checked on the real containers (ops/machine-checks.ts).
    const [cli] = s ? await inspectServices(project, [CLI_SERVICE]).catch(() => []) : [];
    const running = cli?.state === 'running' ? cli.container : undefined;
    for (const check of [
      () => ownerCheck(project),
      () => (running ? workspaceWriteCheck(project) : Promise.resolve(warn('workspace', 'not checked: claude-cli is not running', 'Run "cctl up".'))),
      () => protectedPathsCheck(project, running),
    ]) {
      try {
        checks.push(await check());
      } catch (error) {
        checks.push(fromError('machine', error));
      }
    }
  }
  const stray = backupsInProject(project.dir);
  if (stray.length) {
    checks.push(warn('backups', `${stray.length} backup(s) in the project folder, where claude-cli can read them and git can pick them up: ${stray.join(', ')}`, `They hold login tokens: move them to ${join(privateDir(project.name), 'backups')} (cctl backup's default now).`));
  }

  if (s?.['ca-cert']) {
    try {
      // A host path an older cctl stored falls back to the project's copy (assets.ts): a note, not a failure.
      const ca = caCertSource(project.dir, s['ca-cert']);
      checks.push(ca.note ? warn('ca-cert', ca.note, '"cctl up" stores the copy\'s path in the compose file.') : pass('ca-cert', `${ca.stored} is readable PEM`));
    } catch (error) {
      checks.push(fromError('ca-cert', error));
    }
  } else checks.push(pass('ca-cert', 'none configured'));

  if (s) checks.push(...(daemonOk ? await workbenchChecks(project, s, env) : [await identityCheck(project, s, env)]));

  const zone = s?.tz || hostTimeZone(env);
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    checks.push(pass('tz', `${zone}${s?.tz ? ' (setting)' : ' (from the host)'}`));
  } catch {
    checks.push(fail('tz', `"${zone}" is not a known time zone`, 'Use an IANA name such as Europe/Berlin: cctl init --tz Europe/Berlin'));
  }
  return checks;
}

/** "has exited with code 137", "is dead". */
function stoppedText(state: ServiceState): string {
  return state.state === 'exited' ? `has exited${state.exitCode === undefined ? '' : ` with code ${state.exitCode}`}` : `is ${state.state}`;
}

async function volumeCheck(project: Project, volume: string): Promise<CheckResult> {
  if (!(await volumeExists(volume))) return warn('volume', `${volume} does not exist yet`, '"cctl up" creates it.');
  const [cli] = await inspectServices(project, [CLI_SERVICE]);
  if (cli?.state !== 'running') {
    return warn('volume', `${volume} exists; writability not checked (claude-cli is not running)`, 'Run "cctl up".');
  }
  try {
    await execCapture(await projectInvocation(project), { service: CLI_SERVICE, command: ['sh', '-c', 'test -w "$HOME" && test -w "${CLAUDE_CONFIG_DIR:-$HOME/.claude}"'] });
    return pass('volume', `${volume} is writable by claude`);
  } catch {
    // claude has the host user's ids (the project owner's under root; machine-file.ts).
    const own = claudeIds(project.dir);
    const ids = `${own.uid}:${own.gid}`;
    return fail('volume', `${volume} is not writable by claude`, `Fix ownership: docker run --rm -u 0 -v ${volume}:/h <image> chown -R ${ids} /h`);
  }
}

export default async function doctor(_args: string[], options: OptionsFor<'doctor'>): Promise<number> {
  const project = findProject(options);
  const checks = await runChecks(project);
  const failed = checks.filter((c) => c.status === 'fail');
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, project: project.name, checks }, null, 2)}\n`);
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      process.stdout.write(`${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}\n`);
      if (c.fix && c.status !== 'pass') process.stdout.write(`${' '.repeat(width + 8)}fix: ${c.fix}\n`);
    }
  }
  if (failed.length) {
    process.stderr.write(`cctl: ${failed.length} check(s) failed: ${failed.map((c) => `${c.name} (${c.detail.split('\n')[0]})`).join('; ')}\n`);
    return 1;
  }
  return 0;
}

