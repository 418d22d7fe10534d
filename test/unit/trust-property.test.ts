/**
 * The trust check's property, against the real Compose (`config` needs no
 * engine): a random single-key change to cctl's services, or to a resource
 * they name, with the key drawn from the Compose specification's schema
 * (service, build, volume and network properties), is either refused (shown
 * as a change, or rejected by Compose) or resolves to exactly what it
 * resolved to before. The allow-list promise: no key slips through because
 * nobody listed it. The seed is logged; CCTL_PROPERTY_SEED replays a run.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { initProject } from '../../lib/ops/init.js';
import { reviewFileOnDisk } from '../../lib/ops/trust-check.js';
import { fromFlags } from '../../lib/project/setting-layers.js';
import type { Project } from '../../lib/project/locate.js';
import { ownHome } from '../helpers/project.js';

ownHome(test, 'trust-property');

type Sample = [path: string[], value: unknown];

/** Keys of the compose-spec schema's service definition, each with a value Compose accepts. */
const SERVICE_KEYS: Array<[string, unknown]> = [
  ['annotations', { a: 'b' }],
  ['attach', false],
  ['blkio_config', { weight: 300 }],
  ['cap_add', ['SYS_ADMIN']],
  ['cap_drop', ['CHOWN']],
  ['cgroup', 'host'],
  ['cgroup_parent', 'm-executor-abcd'],
  ['command', ['sh', '-c', 'id']],
  ['configs', ['cfg']],
  ['container_name', 'fixed-name'],
  ['cpu_count', 2],
  ['cpu_percent', 50],
  ['cpu_shares', 512],
  ['cpu_quota', 50000],
  ['cpu_period', 100000],
  ['cpu_rt_period', '1400us'],
  ['cpu_rt_runtime', 400000],
  ['cpus', 1.5],
  ['cpuset', '0-1'],
  ['depends_on', ['other']],
  ['device_cgroup_rules', ['c 1:3 mr']],
  ['devices', ['/dev/fuse:/dev/fuse']],
  ['dns', ['8.8.8.8']],
  ['dns_opt', ['use-vc']],
  ['dns_search', ['example.com']],
  ['domainname', 'example.com'],
  ['entrypoint', ['/bin/sh']],
  ['env_file', ['extra.env']],
  ['environment', { INJECTED: '1' }],
  ['expose', ['4000']],
  ['external_links', ['db:db']],
  ['extra_hosts', ['api.anthropic.com:10.0.0.1']],
  ['group_add', ['docker']],
  ['healthcheck', { disable: true }],
  ['hostname', 'h'],
  ['image', 'alpine:3'],
  ['init', false],
  ['ipc', 'host'],
  ['isolation', 'default'],
  ['labels', { l: 'v' }],
  ['links', ['other']],
  ['logging', { driver: 'none' }],
  ['mac_address', '02:42:ac:11:00:02'],
  ['mem_limit', '1g'],
  ['mem_reservation', '512m'],
  ['mem_swappiness', 10],
  ['memswap_limit', '2g'],
  ['network_mode', 'host'],
  ['oom_kill_disable', true],
  ['oom_score_adj', -500],
  ['pid', 'host'],
  ['pids_limit', 10],
  ['platform', 'linux/amd64'],
  ['ports', ['127.0.0.1:9999:3000']],
  ['privileged', true],
  ['profiles', ['other']],
  ['pull_policy', 'always'],
  ['read_only', false],
  ['restart', 'always'],
  ['runtime', 'runc'],
  ['security_opt', ['seccomp=unconfined']],
  ['shm_size', '1g'],
  ['secrets', ['key']],
  ['stdin_open', true],
  ['stop_grace_period', '1s'],
  ['stop_signal', 'SIGKILL'],
  ['storage_opt', { size: '1G' }],
  ['sysctls', { 'net.ipv4.ip_forward': 1 }],
  ['tmpfs', ['/run/x']],
  ['tty', true],
  ['ulimits', { nofile: 1024 }],
  ['user', 'root'],
  ['userns_mode', 'host'],
  ['uts', 'host'],
  ['volumes', ['/:/host']],
  ['volumes_from', ['other']],
  ['working_dir', '/'],
  ['post_start', [{ command: ['id'] }]],
  ['pre_stop', [{ command: ['id'] }]],
  ['deploy', { resources: { limits: { cpus: '4' } } }],
  ['gpus', 'all'],
  ['scale', 2],
];

/** Keys of the schema's build definition. */
const BUILD_KEYS: Array<[string, unknown]> = [
  ['context', '/'],
  ['dockerfile', '../../evil.Dockerfile'],
  ['dockerfile_inline', 'FROM alpine'],
  ['args', { EXTRA: '1' }],
  ['ssh', ['default']],
  ['labels', { l: 'v' }],
  ['cache_from', ['type=local,src=/tmp']],
  ['cache_to', ['type=local,dest=/tmp/c']],
  ['no_cache', true],
  ['additional_contexts', { host: '/' }],
  ['network', 'host'],
  ['pull', true],
  ['target', 'other'],
  ['shm_size', '1g'],
  ['extra_hosts', ['registry.npmjs.org:10.0.0.1']],
  ['isolation', 'default'],
  ['privileged', true],
  ['secrets', ['key']],
  ['tags', ['x:y']],
  ['ulimits', { nofile: 1024 }],
  ['platforms', ['linux/amd64']],
];

/** Keys of the schema's volume and network definitions, on the resources cctl's services name. */
const VOLUME_KEYS: Array<[string, unknown]> = [
  ['driver', 'local'],
  ['driver_opts', { type: 'none', o: 'bind', device: '/' }],
  ['external', true],
  ['labels', { l: 'v' }],
  ['name', 'someone-elses-home'],
];
const NETWORK_KEYS: Array<[string, unknown]> = [
  ['driver', 'bridge'],
  ['driver_opts', { 'com.docker.network.bridge.name': 'x0' }],
  ['internal', false],
  ['external', true],
  ['attachable', true],
  ['enable_ipv6', true],
  ['labels', { l: 'v' }],
  ['name', 'host'],
];

function samples(): Sample[] {
  const out: Sample[] = [];
  for (const service of ['claude-cli', 'proxy']) {
    for (const [key, value] of SERVICE_KEYS) out.push([['services', service, key], value]);
    for (const [key, value] of BUILD_KEYS) out.push([['services', service, 'build', key], value]);
  }
  for (const [key, value] of VOLUME_KEYS) out.push([['volumes', 'claude-home', key], value]);
  for (const [key, value] of NETWORK_KEYS) out.push([['networks', 'claude-internal', key], value]);
  return out;
}

/** A small seeded generator (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hasCompose(): boolean {
  return spawnSync('docker', ['compose', 'version', '--short'], { encoding: 'utf8' }).status === 0;
}

/**
 * A scratch folder with an empty app/ in it, and the v2 plugin as cctl's
 * compose for this test; undefined (failed under CI) when the plugin is missing.
 */
function withComposeV2(t: ExecutionContext, prefix: string): string | undefined {
  if (!hasCompose()) {
    if (process.env.CI === 'true') t.fail('docker compose (v2) is missing');
    else t.log('SKIPPED: needs the docker compose plugin (config runs without an engine)');
    return undefined;
  }
  const saved = process.env.CCTL_COMPOSE;
  process.env.CCTL_COMPOSE = 'docker compose';
  t.teardown(() => (saved === undefined ? delete process.env.CCTL_COMPOSE : (process.env.CCTL_COMPOSE = saved)));
  const root = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'app'));
  return root;
}

test.serial('every single-key change drawn from the Compose schema is refused, or resolves to what it was', async (t) => {
  const root = withComposeV2(t, 'cctl-trust-property-');
  if (!root) return;
  const dir = join(root, 'app');
  execFileSync('git', ['init', '-q', dir]);
  // A file the env_file and secret samples name, and the other service the depends_on/links samples name.
  writeFileSync(join(dir, 'extra.env'), 'FROM_FILE=1\n');
  writeFileSync(
    join(dir, 'compose.yaml'),
    'services:\n  other:\n    image: alpine\nsecrets:\n  key:\n    file: ./extra.env\nconfigs:\n  cfg:\n    file: ./extra.env\n',
  );
  const project: Project = { file: join(dir, 'compose.yaml'), exists: true, dir, name: 'propapp', nameSource: 'flag' };
  await initProject(project, { flags: fromFlags({ isolate: true }), acceptChanges: true });
  const accepted = readFileSync(project.file, 'utf8');
  t.deepEqual((await reviewFileOnDisk(project)).changes, [], 'the file as init wrote it needs no yes');

  const seed = Number(process.env.CCTL_PROPERTY_SEED ?? Date.now() % 1_000_000);
  t.log(`seed ${seed} (CCTL_PROPERTY_SEED=${seed} replays it)`);
  const next = random(seed);
  const all = samples();
  const runs = Number(process.env.CCTL_PROPERTY_RUNS ?? 30);
  let refused = 0;
  for (let i = 0; i < runs; i++) {
    const [path, value] = all[Math.floor(next() * all.length)]!;
    const doc = parseDocument(accepted);
    doc.setIn(path, doc.createNode(value));
    // Compose's answers are kept per process by the files' bytes: a changed file is asked afresh.
    writeFileSync(project.file, doc.toString());
    let verdict: string;
    try {
      const { changes } = await reviewFileOnDisk(project);
      verdict = changes.length > 0 ? `refused: ${changes.map((c) => c.path).join(', ')}` : 'equal';
    } catch (error) {
      verdict = `rejected: ${(error as Error).message.split('\n')[0]}`;
    }
    if (verdict !== 'equal') refused++;
    else {
      // Not refused: then Compose must resolve it to the same model as the accepted file.
      writeFileSync(project.file, accepted);
      t.deepEqual(
        (await reviewFileOnDisk(project)).changes,
        [],
        `${path.join('.')} = ${JSON.stringify(value)} passed unrefused and is not a no-op`,
      );
    }
    t.log(`${path.join('.')} = ${JSON.stringify(value)}: ${verdict}`);
  }
  writeFileSync(project.file, accepted);
  t.true(refused > 0, 'the property can fail: some mutations are refused');
});

test.serial(
  "build.ssh, which Compose 2.26 cannot print as JSON: refused on cctl's services, and a user's keeps the hash check",
  async (t) => {
    const root = withComposeV2(t, 'cctl-trust-ssh-');
    if (!root) return;
    const dir = join(root, 'app');
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  other:\n    image: alpine\n');
    const project: Project = { file: join(dir, 'compose.yaml'), exists: true, dir, name: 'sshapp', nameSource: 'flag' };
    await initProject(project, { acceptChanges: true });
    const accepted = readFileSync(project.file, 'utf8');
    // A service of the user's with build.ssh: the whole model prints only as YAML, cctl's services alone as JSON.
    const mine = parseDocument(accepted);
    mine.setIn(['services', 'other', 'build'], mine.createNode({ context: '.', ssh: ['default=${HOME}/.ssh/id_ed25519'] }));
    writeFileSync(project.file, mine.toString());
    const review = await reviewFileOnDisk(project);
    t.deepEqual(review.changes, [], "a service out of cctl's reach is the user's");
    t.truthy(review.configHashes?.['claude-cli']?.length, 'up still holds claude-cli to the checked config hash');
    t.truthy(review.configHashes?.proxy?.length);
    // On cctl's own service: no config hash could cover it, so it is refused, not asked about.
    const doc = parseDocument(accepted);
    doc.setIn(['services', 'claude-cli', 'build', 'ssh'], doc.createNode(['default=${HOME}/.ssh/id_ed25519']));
    writeFileSync(project.file, doc.toString());
    await t.throwsAsync(() => reviewFileOnDisk(project), {
      message: /gives cctl's services \(claude-cli, proxy\) a build\.ssh entry, which cctl never writes/,
    });
    writeFileSync(project.file, accepted);
  },
);
