/** Building the images: which are due, and what a failed build says. */
import test from 'ava';
import { buildFailureHint, buildImages, imageHashes, imageStaleness, summarizeBuildFailure } from '../../lib/ops/build.js';
import { defaults } from '../../lib/project/settings.js';
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
  const due = await withEngine(fake, () =>
    imageStaleness(project(), { proxy: 'builtin', 'proxy-service': 'proxy' }, { cli: 'new', gateway: 'new' }),
  );
  t.deepEqual(
    due.map((d) => `${d.service}:${d.reason}`),
    ['claude-cli:stale', 'proxy:current'],
  );
  const none = await withEngine(new FakeEngine(), () =>
    imageStaleness(project(), { proxy: 'external', 'proxy-service': 'proxy' }, { cli: 'new', gateway: 'new' }),
  );
  t.deepEqual(
    none.map((d) => `${d.service}:${d.reason}`),
    ['claude-cli:missing'],
  );
});

test.serial('each image is held to its own build hash: the gateway is current while claude-cli is stale', async (t) => {
  const cli = machineImageName(project(), 'claude-cli');
  const fake = new FakeEngine()
    .on(`docker image inspect --format {{json .Config.Labels}} ${cli}`, { stdout: '{"dev.cctl.build-hash":"cli-1"}' })
    .on('docker image inspect --format {{json .Config.Labels}} cctl-demo-proxy:local', { stdout: '{"dev.cctl.build-hash":"gw-1"}' });
  const due = await withEngine(fake, () =>
    imageStaleness(project(), { proxy: 'builtin', 'proxy-service': 'proxy' }, { cli: 'cli-2', gateway: 'gw-1' }),
  );
  t.deepEqual(
    due.map((d) => `${d.service}:${d.reason}`),
    ['claude-cli:stale', 'proxy:current'],
  );
});

test("a claude-cli input (packages, the Claude Code version, its Dockerfile) changes only claude-cli's hash; the gateway's files only its own", (t) => {
  const wanted = new Map([
    ['docker/Dockerfile', Buffer.from('FROM base')],
    ['proxy/Dockerfile', Buffer.from('FROM base AS gw')],
    ['proxy/gateway/main.js', Buffer.from('main()')],
  ]);
  const base = imageHashes(wanted, defaults());
  t.not(base.cli, base.gateway);
  const packages = imageHashes(wanted, { ...defaults(), packages: ['ripgrep', 'jq'] });
  t.is(packages.gateway, base.gateway);
  t.not(packages.cli, base.cli);
  const version = imageHashes(wanted, { ...defaults(), 'claude-version': '9.9.9' });
  t.is(version.gateway, base.gateway);
  t.not(version.cli, base.cli);
  const cliFile = imageHashes(new Map([...wanted, ['docker/Dockerfile', Buffer.from('FROM other')]]), defaults());
  t.deepEqual([cliFile.gateway === base.gateway, cliFile.cli === base.cli], [true, false]);
  const gatewayFile = imageHashes(new Map([...wanted, ['proxy/gateway/main.js', Buffer.from('main2()')]]), defaults());
  t.deepEqual([gatewayFile.gateway === base.gateway, gatewayFile.cli === base.cli], [false, true]);
  // The base image goes into both.
  const image = imageHashes(wanted, { ...defaults(), 'base-image': 'other:1' });
  t.deepEqual([image.gateway === base.gateway, image.cli === base.cli], [false, false]);
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
