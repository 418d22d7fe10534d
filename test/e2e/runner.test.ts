import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { tempProject } from '../helpers/project.js';
import { compose, resetComposeDetection } from '../../lib/engine/compose.js';
import { findProject } from '../../lib/project/locate.js';
import { projectArgv } from '../../lib/ops/compose.js';
import { run, runInteractive } from '../../lib/engine/runner.js';

e2e('the runner detects compose, starts a container, execs in it with exit codes, and tears it down', async (t) => {
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
  const project = findProject({ projectName: tmp.name }, tmp.dir);
  const c = (...args: string[]) => projectArgv(engine, project, args);
  t.teardown(() => run(c('down', '-v', '--timeout', '1')).then(() => undefined, () => undefined));

  await run(c('up', '-d'));
  const echoed = await run(c('exec', '-T', 'box', 'sh', '-c', 'echo "$((6 * 7))"'));
  t.is(echoed.stdout.trim(), '42');

  const failure = await run(c('exec', '-T', 'box', 'sh', '-c', 'echo oops >&2; exit 3')).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.like(failure, { name: 'ProcessError', exitCode: 3 });
  t.regex((failure as Error & { stderr: string }).stderr, /oops/);

  t.is(await runInteractive(c('exec', '-T', 'box', 'sh', '-c', 'exit 5')), 5);

  await run(c('down', '-v', '--timeout', '1'));
  const { stdout } = await run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${tmp.name}`]);
  t.is(stdout.trim(), '');
});
