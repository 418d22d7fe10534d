/**
 * The raw-Compose side of the lifecycle benches, doing the work cctl does and
 * no less, so a ratio compares like with like:
 *   - to all-healthy: `up -d --wait` where Compose has it (v2); Compose v1 has
 *     no --wait, so `up -d`, then the wait cctl itself uses there (docker
 *     events waking a 250 ms inspect loop, lib/ops/stack.ts), run in this
 *     process, so it pays no Node start-up cctl pays;
 *   - "up when current": what cctl's short path asks before it answers
 *     "nothing to do" (lib/ops/up-fast.ts): Compose's config hash of each
 *     service, the project's containers, one inspect of containers and
 *     images, and a check that each runs healthy with that hash.
 */
import { execFileSync } from 'node:child_process';
import type { ComposeCommand } from '../lib/engine/compose.js';
import { projectArgv } from '../lib/ops/compose.js';
import { waitHealthy } from '../lib/ops/stack.js';
import type { Project } from '../lib/project/locate.js';

export interface RawTarget {
  engine: ComposeCommand;
  project: Project;
  env: NodeJS.ProcessEnv;
  services: readonly string[];
}

const sh = (t: RawTarget, argv: readonly string[]) =>
  execFileSync(argv[0]!, argv.slice(1), { cwd: t.project.dir, env: t.env, stdio: 'pipe' }).toString();
// The files, project and profile cctl gives compose (projectArgv), so both sides run the same model.
const raw = (t: RawTarget, args: readonly string[]) => projectArgv(t.engine, t.project, args, t.env);

/** Starts the services and returns when all are healthy. */
export async function rawUpHealthy(t: RawTarget): Promise<void> {
  if (t.engine.flavour !== 'v1') {
    sh(t, raw(t, ['up', '-d', '--wait', ...t.services]));
    return;
  }
  sh(t, raw(t, ['up', '-d', ...t.services]));
  await waitHealthy(t.project, t.services, { timeoutMs: 300_000 });
}

/**
 * The short path's checks, raw: Compose's config hash of each service, the project's containers, one
 * inspect. `healthy`: every service runs, healthy. `sameHash`: each container's config-hash label is the
 * hash Compose computes now; cctl computes it with the environment of its own up (git identity, SSH
 * socket: ops/workbench.ts), so with another environment this may differ while the work is the same.
 */
export function rawIsCurrent(t: RawTarget): { healthy: boolean; sameHash: boolean } {
  const hashes = new Map(
    sh(t, raw(t, ['config', `--hash=${t.services.join(',')}`]))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
  const ids = sh(t, ['docker', 'ps', '-q', '--filter', `label=com.docker.compose.project=${t.project.name}`])
    .split('\n')
    .filter(Boolean);
  if (!ids.length) return { healthy: false, sameHash: false };
  const format =
    '{{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.config-hash"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.Image}}';
  const rows = sh(t, ['docker', 'inspect', '--format', format, ...ids])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
  const row = (s: string) => rows.find(([service]) => service === s);
  return {
    healthy: t.services.every((s) => ['healthy', 'none'].includes(row(s)?.[3] ?? '') && row(s)?.[2] === 'running'),
    sameHash: t.services.every((s) => row(s)?.[1] === hashes.get(s)),
  };
}
