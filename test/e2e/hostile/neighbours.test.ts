/**
 * Hostile workspace, class 1 continued: Compose 2.26 keys the first corpus never tried, on cctl's own
 * services and on services of the user's that share something with them (a namespace, a volume, a network),
 * written into the compose file from inside claude-cli (issue 19). The guard is an allow-list over
 * `config --format json`: each key below must come out as a difference from cctl's rendering (on cctl's
 * services) or from the accepted copy (on a user's service in reach). The project is isolated, so
 * claude-cli's only way out is the gateway. The harness (test/helpers/hostile.ts) says what each case asserts.
 *
 * Attack first, on main 0713260: every case below is refused, each naming the key or the service (a user's
 * service in reach by its accepted copy: none, so it shows as added). No hole found in this class.
 */
import { BASE_IMAGE, e2e } from '../../helpers/e2e.js';
import { hostileSuite, type Edit } from '../../helpers/hostile.js';

const FILE = 'compose.yaml';
const on = (service: string, key: string, value: string): Edit => ({ set: FILE, path: ['services', service, key], value });
/** A service of the user's (not cctl's), with these keys besides an image and a command. */
const userService = (name: string, keys: string): Edit => ({
  set: FILE,
  path: ['services', name],
  value: `\nimage: ${BASE_IMAGE}\ncommand: ["sleep", "infinity"]\n${keys}`,
});

hostileSuite(e2e, { prefix: 'nbr', isolate: true }, [
  {
    // cctl never runs `compose watch` or `up --watch`; the key must not be taken silently for when someone does.
    title: 'develop.watch on claude-cli: sync the workspace over /etc, rebuild on change',
    edits: () => [on('claude-cli', 'develop', '\nwatch:\n  - {action: sync, path: ./, target: /etc}\n  - {action: rebuild, path: .cctl}')],
    names: /claude-cli\.develop/,
  },
  {
    title: 'annotations, attach: false and storage_opt on claude-cli',
    edits: () => [
      on('claude-cli', 'annotations', '{com.example.hostile: "1"}'),
      on('claude-cli', 'attach', 'false'),
      on('claude-cli', 'storage_opt', '{size: 20G}'),
    ],
    names: /annotations|attach|storage_opt/,
  },
  {
    title: 'cgroup: host and uts: host on claude-cli',
    edits: () => [on('claude-cli', 'cgroup', 'host'), on('claude-cli', 'uts', 'host')],
    names: /cgroup|uts/,
  },
  {
    title: 'device_cgroup_rules and ulimits on claude-cli (every device readable, no limits)',
    edits: () => [on('claude-cli', 'device_cgroup_rules', '["c *:* rmw", "b *:* rmw"]'), on('claude-cli', 'ulimits', '{nofile: 1048576}')],
    names: /device_cgroup_rules|ulimits/,
  },
  {
    title: "volumes_from on claude-cli: the user's web service, given a bind of the host HOME",
    edits: (t) => [on('web', 'volumes', `["${t.home}:/hosthome"]`), on('claude-cli', 'volumes_from', '[web]')],
    names: /volumes_from/,
  },
  {
    // (links: [claude-cli] on the gateway is a dependency cycle, which Compose itself rejects.)
    title: "external_links on the gateway: the upstream's name resolves to claude-cli's container",
    edits: (t) => [on('proxy', 'external_links', `["${t.name}-claude-cli-1:api.anthropic.com"]`)],
    names: /external_links|api\.anthropic\.com/,
  },
  {
    title: 'a top-level network entry claude-cli joins given driver_opts and ipam (claude-internal)',
    edits: () => [
      {
        set: FILE,
        path: ['networks', 'claude-internal'],
        value: '\ninternal: true\ndriver_opts: {com.docker.network.bridge.name: docker0}\nipam: {config: [{subnet: 172.31.251.0/24}]}',
      },
    ],
    names: /claude-internal|driver_opts|ipam/,
  },
  {
    title: "the project's default network (the gateway's way out) given driver_opts",
    edits: () => [
      { set: FILE, path: ['networks', 'default'], value: '\ndriver_opts: {com.docker.network.bridge.enable_ip_masquerade: "false"}' },
    ],
    names: /networks\.default\.driver_opts/,
  },
  {
    title: "a privileged service of the user's in claude-cli's network namespace (network_mode: service:claude-cli)",
    expect: 'refuse',
    edits: () => [userService('spy', 'network_mode: "service:claude-cli"\nprivileged: true\ncap_add: [NET_ADMIN]')],
    names: /services\.spy/,
  },
  {
    title: "a privileged service of the user's that depends on claude-cli and shares its pid and ipc namespaces",
    expect: 'refuse',
    edits: () => [
      userService(
        'spy',
        'pid: "service:claude-cli"\nipc: "service:claude-cli"\nprivileged: true\ndepends_on: [claude-cli]\nlinks: [claude-cli]',
      ),
    ],
    names: /services\.spy/,
  },
  {
    title: "a service of the user's in the gateway's network namespace, by container name",
    expect: 'refuse',
    edits: (t) => [userService('spy', `network_mode: "container:${t.name}-proxy-1"\nexternal_links: ["${t.name}-proxy-1:gw"]`)],
    names: /services\.spy/,
  },
  {
    title: "a service of the user's that mounts claude-cli's home volume (its credentials), keys merged from an x- extension",
    expect: 'refuse',
    edits: () => [
      { prepend: FILE, text: 'x-loot: &loot\n  volumes: ["claude-home:/loot"]\n  user: root\n' },
      userService('spy', '<<: *loot'),
    ],
    names: /services\.spy.*claude-home/,
  },
  {
    title: "a service of the user's joining claude-cli's internal network, from an include with env_file and project_directory",
    expect: 'refuse',
    edits: (t) => [
      { write: '.cctl/inc/evil.env', text: `NET=${t.name}_claude-internal\nROOT=/\n` },
      {
        write: '.cctl/inc/extra.yaml',
        text:
          `services:\n  spy:\n    image: ${BASE_IMAGE}\n    command: ["sleep", "infinity"]\n    volumes: ["\${ROOT}:/host"]\n` +
          '    networks: [outside, inside]\nnetworks:\n  outside: {}\n  inside:\n    name: ${NET}\n    external: true\n',
      },
      { set: FILE, path: ['include'], value: '\n- path: .cctl/inc/extra.yaml\n  env_file: .cctl/inc/evil.env\n  project_directory: /' },
    ],
    names: /services\.spy/,
  },
  {
    title: 'a top-level name: in the compose file (another project, with no trust of its own)',
    edits: (t) => [{ prepend: FILE, text: `name: ${t.name}x\n` }],
    names: /project name/,
  },
]);
