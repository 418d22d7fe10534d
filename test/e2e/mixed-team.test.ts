/**
 * A mixed team (issue 19 item 4): the lead initialises with the Compose v2
 * plugin and commits; a teammate, another user with a home of their own,
 * clones and runs `cctl up` with whatever Compose this phase uses (v1 on
 * engine 20.10 in CI's legacy phase, the v2 plugin on engine 26). Nothing is
 * refused, the committed file stays byte for byte as the lead wrote it, and
 * the engine-dependent values are in the teammate's per-machine file only.
 * In the legacy list (package.json test:legacy).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { e2e } from '../helpers/e2e.js';
import { CLI, composeCommand, e2eEnv } from '../helpers/cli.js';
import { removeProjectImages } from '../helpers/project.js';
import { asRegularUser, giveToRegularUser } from '../helpers/regular-user.js';
import { run, runSettled } from '../../lib/engine/runner.js';

const root = mkdtempSync(join(tmpdir(), 'cctl-mixed-'));
// The teammate (dev) must reach its clone and home below it (mkdtemp makes the folder 0700).
chmodSync(root, 0o755);
const name = `cctle2emixed${randomBytes(3).toString('hex')}`;
const lead = join(root, 'lead', name);
const mate = join(root, 'mate', name);
const mateHome = join(root, 'mate-home');
const leadHome = join(root, 'lead-home');
for (const d of [lead, mateHome, leadHome, join(root, 'mate')]) mkdirSync(d, { recursive: true });
const base = e2eEnv({
  GIT_AUTHOR_NAME: 'E2E',
  GIT_AUTHOR_EMAIL: 'e2e@example.test',
  GIT_COMMITTER_NAME: 'E2E',
  GIT_COMMITTER_EMAIL: 'e2e@example.test',
});
delete base.COMPOSE_PROJECT_NAME;
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'safe.directory=*', ...args], { cwd, env: base, stdio: 'pipe' }).toString();
/** The compose this phase tests with: v1 in CI's legacy phase (CCTL_COMPOSE=docker-compose), else the v2 plugin. */
const phaseCompose = composeCommand().join(' ');

e2e.after.always(async () => {
  await runSettled(
    [...composeCommand(), '-p', name, '--profile', 'claude', '-f', join(mate, 'compose.yaml'), 'down', '-v', '--timeout', '1'],
    { cwd: mate, env: { ...base, COMPOSE_PROJECT_NAME: name } },
  );
  await removeProjectImages(name);
  rmSync(root, { recursive: true, force: true });
});

e2e.serial(
  "the lead inits with the v2 plugin and commits; a teammate on this phase's Compose runs up: nothing refused, the file unchanged",
  async (t) => {
    git(lead, 'init', '-q');
    const init = await runSettled(['node', CLI, 'init'], { cwd: lead, env: { ...base, HOME: leadHome, CCTL_COMPOSE: 'docker compose' } });
    t.is(init.exitCode, 0, init.stderr);
    git(lead, 'add', '-A');
    git(lead, 'commit', '-qm', 'cctl init (v2 plugin)');
    const committed = readFileSync(join(lead, 'compose.yaml'), 'utf8');
    git(join(root, 'mate'), 'clone', '-q', lead, name);
    giveToRegularUser(join(root, 'mate'));
    giveToRegularUser(mateHome);
    const env = {
      ...base,
      HOME: mateHome,
      CCTL_COMPOSE: phaseCompose,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'safe.directory',
      GIT_CONFIG_VALUE_0: '*',
    };
    const up = await runSettled([...asRegularUser, 'node', CLI, 'up', '--timeout', '900'], { cwd: mate, env, timeoutMs: 900_000 });
    t.is(up.exitCode, 0, up.stderr + up.stdout);
    t.notRegex(up.stdout + up.stderr, /refus|conflict|would overwrite|cctl would write/i);
    t.is(readFileSync(join(mate, 'compose.yaml'), 'utf8'), committed, "the committed file is byte for byte the lead's");
    t.is(git(mate, 'status', '--porcelain', '--', 'compose.yaml', '.cctl'), '');
    // The engine-dependent timing went to the teammate's own file, where this engine and Compose support it.
    const machine = readFileSync(join(mateHome, '.config', 'cctl', 'projects', name, 'compose.machine.yaml'), 'utf8');
    const engine = Number((await run(['docker', 'version', '--format', '{{.Server.Version}}'])).stdout.split('.')[0]);
    t.is(machine.includes('start_interval'), engine >= 25 && !phaseCompose.startsWith('docker-compose'), machine);
    // And back: the lead's next init leaves it alone too.
    const again = await runSettled(['node', CLI, 'init'], { cwd: lead, env: { ...base, HOME: leadHome, CCTL_COMPOSE: 'docker compose' } });
    t.is(again.exitCode, 0, again.stderr);
    t.is(readFileSync(join(lead, 'compose.yaml'), 'utf8'), committed);
  },
);
