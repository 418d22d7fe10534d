/**
 * Compose 2.26 cannot print a model as JSON when a service has a build.ssh entry with a path. The trust check
 * then read the whole model as YAML and had no config hash for up to hold cctl's containers to, so a service of
 * the user's with build.ssh switched the start's check off (e2e: hostile/race). Now cctl's services are resolved
 * alone as JSON; one on cctl's own services is refused outright.
 */
import test from 'ava';
import { fakeComposeConfig } from '../helpers/fake-compose-config.js';
import { ENGINE_26, V2 } from '../helpers/fake-engine.js';
import { ownHome } from '../helpers/project.js';
import { runUp } from '../helpers/up-unit.js';

ownHome(test, 'trust-build-ssh');

const UNPRINTABLE = {
  exitCode: 1,
  stderr: "json: error calling MarshalJSON for type types.SSHKey: invalid character ':' after top-level value\n",
};

/** `up` where the whole project's model cannot be printed as JSON; `selected` answers cctl's services asked alone. */
async function runUpWith(selected: 'printable' | 'unprintable') {
  return runUp({ flavour: V2, daemon: ENGINE_26 }, (fake) => {
    fake.on(/ config --format json claude-cli proxy$/, (argv, options) =>
      selected === 'printable' ? fakeComposeConfig(argv.slice(0, -2), options) : UNPRINTABLE,
    );
    // The project's whole model (not the rendering's, read with --env-file): a service of the user's has build.ssh.
    fake.on((line, argv) => line.endsWith(' config --format json') && !argv.includes('--env-file'), UNPRINTABLE);
  });
}

test.serial("a user's build.ssh leaves cctl's containers held to the checked config hashes", async (t) => {
  const { error, fake } = await runUpWith('printable');
  t.is(error, undefined);
  const lines = fake.lines().filter((l) => / config( |$)/.test(l));
  t.true(
    lines.some((l) => l.endsWith(' config --format json claude-cli proxy')),
    "cctl's services resolved alone as JSON",
  );
  t.true(
    lines.some((l) => / config$/.test(l)),
    "the whole model read as YAML, for the user's services in reach",
  );
  // Created, compared with the hashes of what the check compared, then started by id: not Compose's own start.
  const ups = fake.composeCalls().filter((c) => c.includes('up'));
  t.true(ups.length > 0 && ups.every((c) => c.includes('--no-start')), JSON.stringify(ups));
  const started = fake.lines('docker start').join(' ');
  t.true(started.includes('id-proxy') && started.includes('id-claude-cli'), started);
});

test.serial("build.ssh on cctl's own services is refused outright, before anything is built or started", async (t) => {
  const { error, fake } = await runUpWith('unprintable');
  t.regex(error?.message ?? '', /cctl's services \(claude-cli, proxy\) a build\.ssh entry, which cctl never writes/);
  t.deepEqual(
    fake.composeCalls().filter((c) => c.includes('up') || c.includes('build')),
    [],
  );
});
