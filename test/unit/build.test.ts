/** Building the images: which are due, and what a failed build says. */
import test from 'ava';
import { buildFailureHint, buildImages, imageStaleness, summarizeBuildFailure } from '../../lib/ops/build.js';
import { findProject } from '../../lib/project/locate.js';
import { machineImageName } from '../../lib/project/machine-file.js';
import { failureOf, FakeEngine, withEngine } from '../helpers/fake-engine.js';
import { scratchDir } from '../helpers/scratch.js';

const project = () => findProject({ projectName: 'demo' }, scratchDir('cctl-build-unit-'));

test.serial('an image is missing, stale (another build hash) or current', async (t) => {
  // claude-cli's image names the ids it is built for (this user's).
  const cli = machineImageName(project(), 'claude-cli');
  t.regex(cli, /^cctl-demo-claude-cli:local-u\d+-g\d+$/);
  const fake = new FakeEngine()
    .on(`docker image inspect --format {{json .Config.Labels}} ${cli}`, { stdout: '{"dev.cctl.build-hash":"old"}' })
    .on('docker image inspect --format {{json .Config.Labels}} cctl-demo-proxy:local', { stdout: '{"dev.cctl.build-hash":"new"}' });
  const due = await withEngine(fake, () => imageStaleness(project(), { proxy: 'builtin', 'proxy-service': 'proxy' }, 'new'));
  t.deepEqual(
    due.map((d) => `${d.service}:${d.reason}`),
    ['claude-cli:stale', 'proxy:current'],
  );
  const none = await withEngine(new FakeEngine(), () => imageStaleness(project(), { proxy: 'external', 'proxy-service': 'proxy' }, 'new'));
  t.deepEqual(
    none.map((d) => `${d.service}:${d.reason}`),
    ['claude-cli:missing'],
  );
});

test('the failure summary names the failing step (BuildKit and classic) and keeps the last lines', (t) => {
  const buildkit = '#5 [base 1/4] FROM x\n#7 [tools 2/4] RUN npm install -g ccusage\n#7 ERROR: SELF_SIGNED_CERT_IN_CHAIN\n';
  t.regex(summarizeBuildFailure(buildkit), /^Failing step: \[tools 2\/4\] RUN npm install -g ccusage\n/);
  t.regex(summarizeBuildFailure(buildkit), /SELF_SIGNED_CERT_IN_CHAIN/);
  t.regex(
    summarizeBuildFailure('Step 3/9 : RUN apk add x\nERROR: unable to select packages\n'),
    /^Failing step: Step 3\/9 : RUN apk add x/,
  );
  t.false(summarizeBuildFailure('just noise').startsWith('Failing step'));
  const script = `#9 [monitor 1/1] RUN set -eu; ${'echo step; '.repeat(40)}\n#9 ERROR: exit code: 1\n`;
  t.regex(summarizeBuildFailure(script), /^Failing step: \[monitor 1\/1\] RUN set -eu; echo step; .{100,160}\.\.\.\n/);
});

test("a failed build's hint follows its cause: PyPI for the monitor, a missing CA (even when npm names its registry), a base image pull", (t) => {
  t.regex(
    buildFailureHint('ERROR: No matching distribution found for claude-monitor==4.0.0'),
    /cctl init --no-monitor \(or CCTL_MONITOR=0\)/,
  );
  t.regex(
    buildFailureHint(
      'npm error request to https://registry.npmjs.org/ccusage failed, reason: self-signed certificate in certificate chain',
    ),
    /cctl init --ca-cert FILE/,
  );
  t.regex(
    buildFailureHint('failed to solve: node:22-bookworm-slim: failed to resolve source metadata for docker.io/library/node'),
    /--base-image IMAGE/,
  );
  t.regex(buildFailureHint('E: Unable to locate package foo'), /^Fix the cause above.*cctl init --ca-cert FILE/);
});

test.serial('a failed build says which step failed and how to go on; a pull failure points at --base-image', async (t) => {
  const p = project();
  const steps = new FakeEngine().on(/ build /, { exitCode: 1, stdout: '#7 [tools 2/4] RUN npm ci\n', stderr: 'npm ERR! network\n' });
  const error = await withEngine(steps, () => failureOf(() => buildImages(p, ['claude-cli'])));
  t.regex(error!.message, /The image build failed \(claude-cli\)\.\nFailing step: \[tools 2\/4\] RUN npm ci/);
  t.regex(error!.hint!, /cctl build --no-cache/);
  const pull = new FakeEngine().on(/ build /, { exitCode: 1, stderr: 'pull access denied for node, repository does not exist\n' });
  t.regex((await withEngine(pull, () => failureOf(() => buildImages(p, ['claude-cli']))))!.hint!, /--base-image/);
  const down = new FakeEngine({ daemon: 'down' }).on(/ build /, {
    exitCode: 1,
    stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
  });
  t.regex((await withEngine(down, () => failureOf(() => buildImages(p, ['claude-cli']))))!.message, /Docker daemon is not reachable/);
});
