/**
 * The containers `up --no-start` just made: their config-hash labels (what the check before the start
 * compares, ops/up/record.ts), then their start by id, or their removal. The engine API on its local socket
 * when there is one (engine-api.ts), else the docker CLI.
 */
import { CONFIG_HASH_LABEL, PROJECT_LABEL, SERVICE_LABEL } from './containers.js';
import { explainDockerError } from './docker.js';
import { inspectObjects, listProject, startContainer } from './engine-api.js';
import { run } from './runner.js';

/** The config-hash label of each named container, by service: one `docker inspect`. */
export async function configHashLabels(containers: readonly string[]): Promise<Map<string, string>> {
  const asked = (await inspectObjects(containers)) as Array<{ Config: { Labels: Record<string, string> } }> | undefined;
  if (asked) {
    const labels = asked.map((c) => [c.Config.Labels[SERVICE_LABEL] ?? '', c.Config.Labels[CONFIG_HASH_LABEL] ?? ''] as const);
    return new Map(labels.filter(([service, hash]) => service !== '' && hash !== ''));
  }
  const format = `{{index .Config.Labels "${SERVICE_LABEL}"}} {{index .Config.Labels "${CONFIG_HASH_LABEL}"}}`;
  const { stdout } = await run(['docker', 'inspect', '--format', format, ...containers]);
  return new Map(
    stdout
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter((p): p is [string, string] => p.length === 2 && p[1] !== ''),
  );
}

/** `docker start` of containers by id or name, in the order given (a dependency first). */
export async function startContainers(containers: readonly string[]): Promise<void> {
  for (const [i, id] of containers.entries()) {
    if (!(await startContainer(id))) return void (await run(['docker', 'start', ...containers.slice(i)]));
  }
}

/** `docker rm -f` of containers by id or name (their anonymous volumes stay). */
export async function removeContainers(containers: readonly string[]): Promise<void> {
  if (containers.length > 0) await run(['docker', 'rm', '-f', ...containers]);
}

/**
 * Each service's newest container of the project (any state), with its config-hash label: one `docker ps`.
 * What `compose up --no-start` just made, for the check before the start (ops/up/record.ts).
 */
export async function configHashesByService(
  project: string,
): Promise<Map<string, { id: string; service: string; hash: string; state: string }>> {
  const format = ['{{.ID}}', `{{.Label "${SERVICE_LABEL}"}}`, `{{.Label "${CONFIG_HASH_LABEL}"}}`, '{{.State}}'].join('\t');
  try {
    const listed = await listProject(project);
    const lines = listed?.map((c) => [c.Id, c.Labels?.[SERVICE_LABEL] ?? '', c.Labels?.[CONFIG_HASH_LABEL] ?? '', c.State].join('\t'));
    const stdout = lines
      ? lines.join('\n')
      : (await run(['docker', 'ps', '-a', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`, '--format', format])).stdout;
    const out = new Map<string, { id: string; service: string; hash: string; state: string }>();
    for (const line of stdout.split('\n').filter((l) => l.trim())) {
      const [id = '', service = '', hash = '', state = ''] = line.split('\t');
      // docker ps lists the newest first.
      if (!out.has(service)) out.set(service, { id, service, hash, state });
    }
    return out;
  } catch (error) {
    throw explainDockerError(error);
  }
}
