/**
 * One build hash per image (issue 19): a change to claude-cli's inputs alone (the `packages` setting, as
 * `cctl update` or `cctl init --set packages=...` makes) rebuilds and recreates claude-cli only. The gateway
 * keeps its image and its container, so the egress log in it survives. Read from the engine: the gateway
 * container's ID and start time, and the image IDs, with `docker inspect`.
 *
 * Before (main 2d6d20c), one hash covered both images: the same change rebuilt the gateway and recreated
 * its container.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../helpers/e2e.js';
import { removeProjectImages, tempProject } from '../helpers/project.js';
import { cctl, composeCommand, e2eEnv } from '../helpers/cli.js';
import { run, runSettled } from '../../lib/engine/runner.js';

const tmp = tempProject('hashes');
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name });
writeFileSync(join(tmp.dir, 'compose.yaml'), 'services: {}\n');

e2e.after.always(async () => {
  await runSettled([...composeCommand(), '-p', tmp.name, '--profile', 'claude', 'down', '-v', '--timeout', '1'], { cwd: tmp.dir, env });
  await removeProjectImages(tmp.name);
  tmp.cleanup();
});

const inProject = (args: string[]) => cctl(args, { cwd: tmp.dir, env });

async function up(t: { is: (a: unknown, b: unknown, m?: string) => void }): Promise<{ built: string[] }> {
  const r = await inProject(['up', '--json', '--timeout', '900']);
  t.is(r.exitCode, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout) as { built: string[] };
}

/** The service's container as the engine has it: ID, start time, and the ID of the image it runs. */
async function container(service: string): Promise<{ id: string; started: string; image: string }> {
  const filters = ['--filter', `label=com.docker.compose.project=${tmp.name}`, '--filter', `label=com.docker.compose.service=${service}`];
  const id = (await run(['docker', 'ps', '-q', '--no-trunc', ...filters])).stdout.trim();
  const [c] = JSON.parse((await run(['docker', 'inspect', id])).stdout) as Array<{
    Id: string;
    Image: string;
    State: { StartedAt: string };
  }>;
  return { id: c!.Id, started: c!.State.StartedAt, image: c!.Image };
}

e2e.serial('a packages change rebuilds and recreates claude-cli only; the gateway container is the same one', async (t) => {
  t.is((await inProject(['init'])).exitCode, 0);
  await up(t);
  const [cliBefore, gatewayBefore] = [await container('claude-cli'), await container('proxy')];
  const init = await inProject(['init', '--set', 'packages=make']);
  t.is(init.exitCode, 0, init.stderr);
  const { built } = await up(t);
  t.deepEqual(built, ['claude-cli'], 'only claude-cli is built again');
  const [cliAfter, gatewayAfter] = [await container('claude-cli'), await container('proxy')];
  t.not(cliAfter.image, cliBefore.image, 'claude-cli runs the new image');
  t.not(cliAfter.id, cliBefore.id, 'claude-cli is recreated');
  t.deepEqual(gatewayAfter, gatewayBefore, 'the gateway: same container, started once, same image');
  t.is((await inProject(['exec', '--', 'make', '--version'])).exitCode, 0);
  // And nothing more is due: the next up is current.
  const again = await up(t);
  t.deepEqual(again.built, []);
});
