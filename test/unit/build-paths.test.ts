/**
 * The team's build additions (.cctl/Dockerfile.local, .cctl/docker/local/) as files the host runs: a build on
 * the host's engine has its network (an ADD of a URL on 127.0.0.1 is fetched from the host) and every image on
 * it (COPY --from). On main 6a56f80 an edit from claude-cli was built at the next up without a question
 * (e2e: hostile/build, the loot was in the image). Now they are read-only in claude-cli where they exist, one
 * that appears is named, and `cctl build`/`cctl update` build nothing before an up accepted it.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CctlError } from '../../lib/kernel/errors.js';
import { assertBuildFilesAccepted, writeAccepted } from '../../lib/ops/protected.js';
import type { Project } from '../../lib/project/locate.js';
import { changedSince, describePathChanges, protectedBinds, acceptedFrom } from '../../lib/project/protected-paths.js';

function project() {
  const root = mkdtempSync(join(tmpdir(), 'cctl-build-paths-'));
  const dir = join(root, 'app');
  mkdirSync(join(dir, '.cctl', 'docker'), { recursive: true });
  const p = { dir, name: `bp${Date.now()}`, file: join(dir, 'compose.yaml') } as Project;
  return { root, dir, p, env: { ...process.env, HOME: join(root, 'home') } };
}

test('an existing Dockerfile.local and local/ are bound read-only, .cctl and .cctl/docker pinned', (t) => {
  const s = project();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  writeFileSync(join(s.dir, '.cctl', 'Dockerfile.local'), 'RUN true\n');
  mkdirSync(join(s.dir, '.cctl', 'docker', 'local'));
  const binds = protectedBinds(s.dir).binds.map((b) => `${b.target}${b.readOnly ? ':ro' : ''}`);
  for (const b of [
    '/workspace/.cctl',
    '/workspace/.cctl/Dockerfile.local:ro',
    '/workspace/.cctl/docker',
    '/workspace/.cctl/docker/local:ro',
  ])
    t.true(binds.includes(b), b);
});

test('one that appears is named as something a build runs, and build/update refuse it until an up accepts', (t) => {
  const s = project();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  const before = protectedBinds(s.dir).states;
  writeAccepted(s.p, before, s.env);
  assertBuildFilesAccepted(s.p, s.env);
  writeFileSync(join(s.dir, '.cctl', 'Dockerfile.local'), 'ADD http://127.0.0.1:9/x /tmp/x\n');
  t.regex(
    describePathChanges(changedSince(acceptedFrom(before), protectedBinds(s.dir).states)),
    /\.cctl\/Dockerfile\.local appeared .*a build runs it/,
  );
  const error = t.throws(() => assertBuildFilesAccepted(s.p, s.env), { instanceOf: CctlError });
  t.regex(error!.message, /nothing was built:\n.*\.cctl\/Dockerfile\.local/);
  t.regex(error!.hint ?? '', /cctl up/);
  writeAccepted(s.p, protectedBinds(s.dir).states, s.env);
  t.notThrows(() => assertBuildFilesAccepted(s.p, s.env), 'accepted by an up: built');
});
