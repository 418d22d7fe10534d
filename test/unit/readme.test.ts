/**
 * The README's set-up and install instructions, held to what cctl does:
 * `npx cctl up` in cctl's own clone leaves git clean there (.gitignore covers
 * what init writes at a project's top), and the onboarding script's "how to
 * install cctl" points at a README section that exists and names each way.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../lib/cli.js';
import { onboardScript } from '../../lib/project/onboard.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';
import { captureStdout } from '../helpers/output.js';
import { ownHome } from '../helpers/project.js';
import { scratchDir } from '../helpers/scratch.js';

ownHome(test, 'readme');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

test.serial('cctl init in a clone of cctl leaves git status clean: its .gitignore covers compose.yaml, .cctl/ and scripts/', async (t) => {
  const clone = scratchDir('cctl-readme-clone-');
  const git = (...args: string[]) => execFileSync('git', ['-C', clone, ...args], { encoding: 'utf8' });
  git('init', '-q');
  copyFileSync(join(ROOT, '.gitignore'), join(clone, '.gitignore'));
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'add', '.gitignore');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'clone');
  const { result } = await withEngine(new FakeEngine(), () =>
    captureStdout(() => main(['-f', join(clone, 'compose.yaml'), 'init', '--json'])),
  );
  t.is(result, 0);
  t.regex(git('ls-files', '--others', '--ignored', '--exclude-standard', '--directory'), /compose\.yaml/, 'init wrote its files');
  t.is(git('status', '--porcelain', '--untracked-files=all'), '');
});

test('the README has an "Installing cctl" section naming each way, and the onboarding script points there', (t) => {
  const section = /^## Installing cctl\n([\s\S]*?)^## /m.exec(README)?.[1] ?? '';
  for (const way of ['npm link', 'npm install -g git+', 'cctl-source', 'CCTL_PACKAGE', 'CCTL="node '])
    t.true(section.includes(way), `the section lacks ${way}`);
  t.true(onboardScript().includes(`cctl's README, \\"Installing cctl\\"`));
  t.regex(README, /\[Installing cctl\]\(#installing-cctl\)/);
});
