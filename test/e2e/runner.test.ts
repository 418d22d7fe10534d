import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { tempProject } from '../helpers/project.js';
import { compose, resetComposeDetection } from '../../lib/engine/compose.js';
import * as client from '../../lib/engine/compose-client.js';
import { run } from '../../lib/engine/runner.js';

e2e(
  'the compose client detects compose, starts a container, execs in it with exit codes, reads the resolved model, and tears it down',
  async (t) => {
    resetComposeDetection();
    const engine = await compose();
    t.regex(engine.version, /^\d+\.\d+\.\d+$/);
    t.log(`compose: ${engine.flavour} ${engine.version}`);

    const tmp = tempProject('runner');
    t.teardown(() => tmp.cleanup());
    writeFileSync(
      join(tmp.dir, 'compose.yaml'),
      `services:\n  box:\n    image: ${BASE_IMAGE}\n    profiles: [claude]\n    command: ["sleep", "600"]\n    init: true\n`,
    );
    // A second file, as the per-machine override is passed: it comes after the committed one and wins.
    writeFileSync(join(tmp.dir, 'override.yaml'), 'services:\n  box:\n    environment:\n      FROM_OVERRIDE: "${CCTL_RUNNER_TEST}"\n');
    const inv: client.ComposeInvocation = {
      engine,
      files: [join(tmp.dir, 'compose.yaml'), join(tmp.dir, 'override.yaml')],
      project: tmp.name,
      dir: tmp.dir,
      profiles: ['claude'],
      env: { ...process.env, CCTL_RUNNER_TEST: 'from-the-invocation', COMPOSE_PROJECT_NAME: tmp.name },
    };
    t.teardown(() => client.down(inv, { timeoutSeconds: 1 }).catch(() => undefined));

    // The model Compose will run: both files merged, the invocation's environment interpolated.
    const model = await client.config(inv);
    const box = model.services?.box as { image?: string; environment?: Record<string, string> };
    t.is(box.image, BASE_IMAGE);
    t.is(box.environment?.FROM_OVERRIDE, 'from-the-invocation');
    const hashes = await client.configHashes(inv);
    t.regex(hashes.get('box') ?? '', /^[0-9a-f]{64}$/);

    await client.up(inv, { services: ['box'] });
    const echoed = await client.execCapture(inv, { service: 'box', command: ['sh', '-c', 'echo "$((6 * 7)) $FROM_OVERRIDE"'] });
    t.is(echoed.stdout.trim(), '42 from-the-invocation');

    const failure = await client.execCapture(inv, { service: 'box', command: ['sh', '-c', 'echo oops >&2; exit 3'] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.like(failure, { name: 'ProcessError', exitCode: 3 });
    t.regex((failure as Error & { stderr: string }).stderr, /oops/);

    t.is(await client.exec(inv, { service: 'box', command: ['sh', '-c', 'exit 5'], tty: false }), 5);

    await client.down(inv, { timeoutSeconds: 1 });
    const { stdout } = await run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${tmp.name}`]);
    t.is(stdout.trim(), '');
  },
);
