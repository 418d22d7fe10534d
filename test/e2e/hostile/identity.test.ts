/**
 * Hostile workspace, class 3: what Compose reads besides cctl's keys, written from inside claude-cli
 * (issue 19): `.env` interpolation into the fields cctl renders, the project's identity (its name, its
 * compose file, a nearer file in a subfolder), network names from `.env`, and cctl's own settings in
 * x-cctl (the gateway's upstream and allow-list). The project is isolated (--isolate): claude-cli's only
 * way out is the gateway, and the team's own service `web` runs beside it.
 *
 * Attack first, on main f18142e: stopped: x-cctl upstream, allow-list, isolate; .env CCTL_UID/GID/TZ/HOME and
 * COMPOSE_FILE and compose.override.yaml were neutralised (before the down/up check). Through:
 * .env CCTL_SSH_AUTH_SOCK=$HOME; a user service joining claude-internal by a name from .env is not refused.
 * On main 67f6e90 all are refused; isolate true -> false only because the merge left a bare "networks:" that
 * Compose rejected, until the merge fix (now named, as a widening).
 */
import { e2e } from '../../helpers/e2e.js';
import { hostileSuite, type Edit } from '../../helpers/hostile.js';

const FILE = 'compose.yaml';
const settings = (key: string, value: string): Edit => ({ set: FILE, path: ['x-cctl', key], value });

hostileSuite(e2e, { prefix: 'ident', isolate: true, startWeb: true }, [
  {
    title: '.env sets CCTL_SSH_AUTH_SOCK (no agent runs) to the host HOME',
    v1: true,
    edits: (t) => [{ write: '.env', text: `CCTL_SSH_AUTH_SOCK=${t.home}\n` }],
    names: /CCTL_SSH_AUTH_SOCK/,
    check: async (t, s) => {
      const look = await s.cctl(['exec', '--', 'sh', '-c', 'ls /run/cctl/ssh-agent.sock/.ssh 2>&1; true']);
      t.false(look.stdout.includes('authorized_keys'), 'the host HOME is not mounted in claude-cli');
    },
  },
  {
    title: ".env sets the other variables cctl's services interpolate (CCTL_UID, CCTL_GID, TZ, HOME)",
    v1: true,
    edits: () => [{ write: '.env', text: 'CCTL_UID=0\nCCTL_GID=0\nTZ=Etc/GMT+5\nHOME=/root\n' }],
    names: /CCTL_UID|CCTL_GID|TZ|HOME/,
  },
  {
    // cctl refuses a "$" in the workspace setting, so the attacker spells the host path out.
    title: '.env changes COMPOSE_PROJECT_NAME, and x-cctl.workspace names the private folders',
    v1: true,
    edits: (t) => [{ write: '.env', text: `COMPOSE_PROJECT_NAME=${t.name}x\n` }, settings('workspace', `${t.home}/.config/cctl`)],
    names: /COMPOSE_PROJECT_NAME|\.config\/cctl/,
  },
  {
    // Alone, so the workspace check above cannot be what stops it: the trust kept by the folder's real path names the new name.
    title: '.env renames the project (COMPOSE_PROJECT_NAME): a fresh project, with no trust of its own, in the same folder',
    v1: true,
    edits: (t) => [{ write: '.env', text: `COMPOSE_PROJECT_NAME=${t.name}x\n` }],
    names: /project name/,
  },
  {
    title: '.env sets COMPOSE_FILE to add a file that makes claude-cli privileged',
    v1: true,
    edits: () => [
      { write: '.cctl/more.yaml', text: 'services:\n  claude-cli:\n    privileged: true\n' },
      { write: '.env', text: 'COMPOSE_FILE=compose.yaml:.cctl/more.yaml\n' },
    ],
    names: /COMPOSE_FILE|privileged|more\.yaml/,
  },
  {
    title: 'a compose.override.yaml beside the file makes claude-cli privileged',
    v1: true,
    edits: () => [{ write: 'compose.override.yaml', text: 'services:\n  claude-cli:\n    privileged: true\n    pid: host\n' }],
    names: /override|privileged/,
  },
  {
    // external: Compose checks the labels of a network it creates, not of one it is told exists.
    title: "cctl's internal network renamed from .env to the project's default network (isolation gone)",
    v1: true,
    edits: (t) => [
      { set: FILE, path: ['networks', 'claude-internal'], value: '\nname: ${NET}\nexternal: true' },
      { write: '.env', text: `NET=${t.name}_default\n` },
    ],
    names: /\bNET\b|claude-internal|_default/,
  },
  {
    title: "the team's service joins claude-cli's internal network under a name from .env",
    v1: true,
    expect: 'refuse',
    edits: (t) => [
      { set: FILE, path: ['services', 'web', 'networks'], value: '[sneak, default]' },
      { set: FILE, path: ['networks', 'sneak'], value: '\nname: ${NET}\nexternal: true' },
      { write: '.env', text: `NET=${t.name}_claude-internal\n` },
    ],
    names: /sneak|\bNET\b|claude-internal/,
  },
  {
    title: 'a second compose file in a subfolder, with the same project name, run from there',
    v1: true,
    cwd: 'src',
    edits: (t) => [
      { copy: FILE, to: `src/${FILE}` },
      // The CA bundle the file names, relative to it (the test stack has one): so nothing but the trust check stops it.
      { copy: '.cctl/docker/certs/extra-ca.crt', to: 'src/.cctl/docker/certs/extra-ca.crt' },
      { prepend: `src/${FILE}`, text: `name: ${t.name}\n` },
      // A key cctl writes itself (volumes), not one it never writes (privileged): a new file's first look takes those as they are.
      {
        set: `src/${FILE}`,
        path: ['services', 'claude-cli', 'volumes'],
        value: '\n- claude-home:/home/claude\n- ..:/workspace\n- ${HOME}/.config/cctl:/private',
      },
      { set: `src/${FILE}`, path: ['x-cctl', 'upstream'], value: 'https://attacker.example' },
    ],
    names: /volumes|upstream|\.config\/cctl|src\/compose\.yaml/,
  },
  {
    title: "x-cctl's upstream pointed at the attacker (the gateway sends the key there)",
    v1: true,
    edits: () => [settings('upstream', 'https://attacker.example')],
    names: /upstream|attacker\.example/,
  },
  {
    title: "x-cctl's egress allow-list opened to every host",
    v1: true,
    edits: () => [settings('allow', '[anthropic, "*"]')],
    names: /\ballow\b/,
  },
  {
    title: "x-cctl's egress allow-list given the attacker's host (a valid entry)",
    v1: true,
    edits: () => [settings('allow', '[anthropic, attacker.example]')],
    names: /x-cctl\.allow.*attacker\.example/,
  },
  {
    // init reads the CA bundle to copy it into .cctl/docker (the image's build context): a host secret would land in the workspace and the image.
    title: "x-cctl's ca-cert pointed at the host user's SSH private key",
    v1: true,
    edits: (t) => [settings('ca-cert', `${t.home}/.ssh/id_ed25519`)],
    names: /ca-cert|id_ed25519/,
    check: async (t, s) => {
      const leaked = await s.asUser(['grep', '-rl', 'OPENSSH PRIVATE KEY', `${s.dir}/.cctl`]);
      t.not(leaked.exitCode, 0, `the private key was copied into the project: ${leaked.stdout}`);
    },
  },
  {
    title: "x-cctl's isolate turned off",
    v1: true,
    edits: () => [settings('isolate', 'false')],
    names: /isolate/,
  },
]);
