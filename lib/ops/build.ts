/** Building the images through Compose, with a failure that shows the failing step. */
import { CctlError } from '../kernel/errors.js';
import { ProcessError } from '../engine/runner.js';
import { inspectImage } from '../engine/images.js';
import { isDaemonDown } from '../engine/docker.js';
import { type Project } from '../project/locate.js';
import { build } from '../engine/compose-client.js';
import { projectInvocation } from './compose.js';
import { gatewayService } from '../project/model.js';
import { machineImageName } from '../project/machine-file.js';
import type { Settings } from '../project/settings.js';
import { CLI_SERVICE } from '../project/locate.js';
import type { ImageHashes } from './image-hashes.js';
import { assertBuildCopies } from './build-copy.js';

export const BUILD_HASH_LABEL = 'dev.cctl.build-hash';

/** Services whose image cctl builds (a third-party proxy image is pulled, not built). */
export function builtServices(s: Pick<Settings, 'proxy' | 'proxy-service'>): string[] {
  return s.proxy === 'builtin' ? [CLI_SERVICE, gatewayService(s)] : [CLI_SERVICE];
}

export { imageHashes, type ImageHashes } from './image-hashes.js';

export interface Staleness {
  service: string;
  image: string;
  reason: 'missing' | 'stale' | 'current';
}

export async function imageStaleness(
  project: Project,
  s: Pick<Settings, 'proxy' | 'proxy-service'>,
  hashes: ImageHashes,
): Promise<Staleness[]> {
  return Promise.all(
    builtServices(s).map(async (service) => {
      const image = machineImageName(project, service);
      const info = await inspectImage(image);
      const hash = service === CLI_SERVICE ? hashes.cli : hashes.gateway;
      const reason = !info.present ? 'missing' : info.labels[BUILD_HASH_LABEL] !== hash ? 'stale' : 'current';
      return { service, image, reason } as Staleness;
    }),
  );
}

/** The step that failed and the last lines before the error, from classic or BuildKit output. */
export function summarizeBuildFailure(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/\r/g, ''))
    .filter((l) => l.trim());
  let step: string | undefined;
  for (const l of lines) {
    const m = /^(Step \d+\/\d+ : .*)$/.exec(l) ?? /^#\d+ (\[[^\]]+\] .*)$/.exec(l);
    if (m) step = m[1];
  }
  const tail = lines
    .slice(-12)
    .map((l) => `  ${l}`)
    .join('\n');
  // A RUN step is often a whole script on one line; its start names it well enough.
  const shown = step && step.length > 160 ? `${step.slice(0, 160)}...` : step;
  return `${shown ? `Failing step: ${shown}\n` : ''}Last lines of the build output:\n${tail}`;
}

/** What the trust check accepted for a build: the build sections it resolved, and the hashes of the inputs. */
export interface CheckedBuild {
  /** The text piped to `compose build` (trust-check.ts buildModel); the project's compose file is not read again. */
  model?: string;
  settings: Settings;
  hashes: ImageHashes;
}

/**
 * Builds `services`. With `checked` (a project's, after its trust check), the private copies of the build
 * inputs must hash as checked (build-copy.ts) and Compose reads the checked build sections on stdin, with
 * no .env: nothing it reads for the build is in the project. Without it (the team gateway's own folder),
 * Compose reads the project's files.
 */
export async function buildImages(
  project: Project,
  services: readonly string[],
  options: { noCache?: boolean; onLine?: (line: string) => void; checked?: CheckedBuild } = {},
): Promise<void> {
  let partial = '';
  if (options.checked) assertBuildCopies(project, options.checked.settings, options.checked.hashes, services);
  try {
    await build(await projectInvocation(project), {
      services,
      model: options.checked?.model,
      noCache: options.noCache,
      onOutput: (chunk) => {
        partial += chunk;
        const lines = partial.split(/\r?\n/);
        partial = lines.pop() ?? '';
        const last = lines.filter((l) => l.trim()).pop();
        if (last) options.onLine?.(last.slice(0, 200));
      },
    });
  } catch (error) {
    // The engine's boundary made it a CctlError; its cause holds the whole build output.
    const cause = error instanceof CctlError ? error.cause : undefined;
    if (!(cause instanceof ProcessError) || isDaemonDown(cause)) throw error;
    const output = `${cause.stdout}\n${cause.stderr}`;
    throw new CctlError(`The image build failed (${services.join(', ')}).\n${summarizeBuildFailure(output)}`, {
      hint: buildFailureHint(output),
      cause,
    });
  }
}

/**
 * What to do about a failed build, by its cause. The order matters: an npm
 * error behind a TLS-inspecting gateway names registry.npmjs.org, and is a
 * missing CA, not a base image that could not be pulled.
 */
export function buildFailureHint(output: string): string {
  if (/No matching distribution found for claude-monitor|\/simple\/claude-monitor\//.test(output)) {
    return 'The Usage Monitor comes from PyPI, which the build could not reach. Make PyPI reachable, or build without the monitor: cctl init --no-monitor (or CCTL_MONITOR=0).';
  }
  if (
    /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|self[- ]signed certificate|unable to get local issuer certificate|CERTIFICATE_VERIFY_FAILED/i.test(
      output,
    )
  ) {
    return 'A TLS-inspecting proxy is in the way: trust its CA in the image with cctl init --ca-cert FILE (or CCTL_CA_CERT=FILE), then run the command again.';
  }
  if (
    /pull access denied|manifest unknown|failed to resolve source metadata|error pulling image|registry-1\.docker\.io|no such host/i.test(
      output,
    )
  ) {
    return 'The base image could not be pulled. Check the network, or point cctl at an image this engine has: cctl init --base-image IMAGE (or CCTL_BASE_IMAGE).';
  }
  return 'Fix the cause above and run "cctl build" again; "cctl build --no-cache" starts from scratch. Behind a TLS-inspecting proxy: cctl init --ca-cert FILE (or CCTL_CA_CERT).';
}
