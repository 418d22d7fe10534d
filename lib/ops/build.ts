/** Building the images through Compose, with a failure that shows the failing step. */
import { CctlError } from '../kernel/errors.js';
import { explainDockerError } from '../engine/docker.js';
import { ProcessError } from '../engine/runner.js';
import { type Project } from '../project/locate.js';
import { composeRun } from '../ops/compose.js';
import { imageInfo } from './stack.js';
import { imageName } from '../project/model.js';
import type { Settings } from '../project/settings.js';
import { CLI_SERVICE, PROXY_SERVICE } from '../project/locate.js';

export const BUILD_HASH_LABEL = 'dev.cctl.build-hash';

/** Services whose image cctl builds (a third-party proxy image is pulled, not built). */
export function builtServices(s: Pick<Settings, 'proxy'>): string[] {
  return s.proxy === 'builtin' ? [CLI_SERVICE, PROXY_SERVICE] : [CLI_SERVICE];
}

export interface Staleness {
  service: string;
  image: string;
  reason: 'missing' | 'stale' | 'current';
}

export async function imageStaleness(project: Project, s: Pick<Settings, 'proxy'>, buildHash: string): Promise<Staleness[]> {
  return Promise.all(
    builtServices(s).map(async (service) => {
      const image = imageName(project.name, service);
      const info = await imageInfo(image);
      const reason = !info.present ? 'missing' : info.labels[BUILD_HASH_LABEL] !== buildHash ? 'stale' : 'current';
      return { service, image, reason } as Staleness;
    }),
  );
}

/** The step that failed and the last lines before the error, from classic or BuildKit output. */
export function summarizeBuildFailure(output: string): string {
  const lines = output.split('\n').map((l) => l.replace(/\r/g, '')).filter((l) => l.trim());
  let step: string | undefined;
  for (const l of lines) {
    const m = /^(Step \d+\/\d+ : .*)$/.exec(l) ?? /^#\d+ (\[[^\]]+\] .*)$/.exec(l);
    if (m) step = m[1];
  }
  const tail = lines.slice(-12).map((l) => `  ${l}`).join('\n');
  return `${step ? `Failing step: ${step}\n` : ''}Last lines of the build output:\n${tail}`;
}

export async function buildImages(
  project: Project,
  services: readonly string[],
  options: { noCache?: boolean; onLine?: (line: string) => void } = {},
): Promise<void> {
  let partial = '';
  try {
    await composeRun(project, ['build', ...(options.noCache ? ['--no-cache'] : []), ...services], {
      onOutput: (chunk) => {
        partial += chunk;
        const lines = partial.split(/\r?\n/);
        partial = lines.pop() ?? '';
        const last = lines.filter((l) => l.trim()).pop();
        if (last) options.onLine?.(last.slice(0, 200));
      },
    });
  } catch (error) {
    const explained = explainDockerError(error);
    if (explained !== error || !(error instanceof ProcessError)) throw explained;
    const output = `${error.stdout}\n${error.stderr}`;
    const pull = /registry|pull access denied|manifest unknown|no such host/i.test(output);
    throw new CctlError(`The image build failed (${services.join(', ')}).\n${summarizeBuildFailure(output)}`, {
      hint: pull
        ? 'The base image could not be pulled. Check the network, or point cctl at an image this engine has: cctl init --base-image IMAGE (or CCTL_BASE_IMAGE).'
        : 'Fix the cause above and run "cctl build" again; "cctl build --no-cache" starts from scratch. Behind a TLS-inspecting proxy, set --ca-cert.',
    });
  }
}
