import test from 'ava';
import { taskModel, type TaskModelFacts } from '../../lib/ops/task/task-model.js';

const facts: TaskModelFacts = {
  services: ['claude-cli'],
  projectName: 'app',
  projectDir: '/src/app',
  taskDir: '/home/u/.config/cctl/projects/app/tasks/one',
  commonDir: '/src/app/.git',
  homeVolume: 'app_claude-home',
};

/** What Compose v2 resolves for a project (config --format json), trimmed to what the transform reads. */
const resolved = () => ({
  name: 'app',
  services: {
    'claude-cli': {
      image: 'cctl-app-claude-cli:local',
      build: { context: '/src/app/.cctl/docker' },
      volumes: [
        { type: 'volume', source: 'claude-home', target: '/home/claude' },
        { type: 'bind', source: '/src/app', target: '/workspace' },
        { type: 'bind', source: '/src/app/.git/hooks', target: '/workspace/.git/hooks', read_only: true },
        { type: 'bind', source: '/src/app/.vscode', target: '/workspace/.vscode', read_only: true },
        { type: 'bind', source: '/run/agent.sock', target: '/run/ssh-agent.sock' },
      ],
      networks: { 'claude-internal': null },
      depends_on: { proxy: { condition: 'service_started', required: true } },
    },
    proxy: {
      image: 'cctl-app-proxy:local',
      build: { context: '/home/u/.config/cctl/projects/app/proxy' },
      networks: { default: null, 'claude-internal': null },
    },
    db: { image: 'postgres:16', volumes: [{ type: 'volume', source: 'data', target: '/var/lib/postgresql/data' }] },
  },
  volumes: { 'claude-home': { name: 'app_claude-home' }, data: { name: 'app_data' }, shared: { name: 'team-cache', external: true } },
  networks: { default: { name: 'app_default' }, 'claude-internal': { name: 'app_claude-internal', internal: true } },
  'x-cctl': { isolate: true },
});

test("only claude-cli, on the project's image, with nothing to build: the gateway and the project's services stay the project's", (t) => {
  const model = taskModel(resolved(), facts) as { services: Record<string, Record<string, unknown>> };
  t.deepEqual(Object.keys(model.services), ['claude-cli']);
  t.is(model.services['claude-cli']!.image, 'cctl-app-claude-cli:local');
  t.false('build' in model.services['claude-cli']!);
  t.false('name' in model, 'the task is named by -p, not by the project name resolved in');
});

test("no start order: Compose starts the task's containers side by side", (t) => {
  const model = taskModel(resolved(), facts) as { services: Record<string, Record<string, unknown>> };
  t.false('depends_on' in model.services['claude-cli']!);
});

test('/workspace is the worktree; project binds follow it; the project .git binds go and the common dir comes in', (t) => {
  const model = taskModel(resolved(), facts) as { services: Record<string, { volumes: Array<Record<string, unknown>> }> };
  const mounts = model.services['claude-cli']!.volumes.map((m) => [m.source, m.target, m.read_only ?? false]);
  t.deepEqual(mounts, [
    ['claude-home', '/home/claude', false],
    [facts.taskDir, '/workspace', false],
    [`${facts.taskDir}/.vscode`, '/workspace/.vscode', true],
    ['/run/agent.sock', '/run/ssh-agent.sock', false],
    ['/src/app/.git', '/src/app/.git', false],
    ['/src/app/.git/hooks', '/src/app/.git/hooks', true],
    ['/src/app/.git/config', '/src/app/.git/config', true],
  ]);
});

test("the project's home volume by its name (external: one login), the task's own other volumes", (t) => {
  const model = taskModel(resolved(), facts) as Record<string, Record<string, unknown>>;
  t.deepEqual(model.volumes, {
    'claude-home': { name: 'app_claude-home', external: true },
    data: {},
    shared: { name: 'team-cache', external: true },
  });
  t.deepEqual(model['x-cctl'], { isolate: true });
});

test("claude-cli joins the project's networks it is on, by their names (external), and no other", (t) => {
  // Isolated: claude-cli is on the internal network only, and stays so; the gateway's default network is not the task's.
  const isolated = taskModel(resolved(), facts) as Record<string, Record<string, unknown>>;
  t.deepEqual(isolated.networks, { 'claude-internal': { name: 'app_claude-internal', external: true } });
  // Not isolated: no networks key means the default network, named as the project named it (or <project>_default).
  const open = resolved();
  delete (open.services['claude-cli'] as Record<string, unknown>).networks;
  t.deepEqual((taskModel(open, facts) as Record<string, unknown>).networks, { default: { name: 'app_default', external: true } });
  const unnamed = { services: { 'claude-cli': { image: 'i', volumes: [] } } };
  t.deepEqual((taskModel(unnamed, facts) as Record<string, unknown>).networks, { default: { name: 'app_default', external: true } });
  const hostNet = { services: { 'claude-cli': { image: 'i', volumes: [], network_mode: 'none' } } };
  t.false('networks' in taskModel(hostNet, facts));
});

test("Compose v1's short volume strings move the same way", (t) => {
  const v1 = {
    services: {
      'claude-cli': {
        image: 'i',
        volumes: ['claude-home:/home/claude:rw', '/src/app:/workspace:rw', '/src/app/.git/config:/workspace/.git/config:ro'],
      },
    },
    volumes: { 'claude-home': {} },
  };
  const model = taskModel(v1, facts) as { services: Record<string, { volumes: unknown[] }> };
  t.deepEqual(model.services['claude-cli']!.volumes.slice(0, 2), ['claude-home:/home/claude:rw', `${facts.taskDir}:/workspace:rw`]);
  t.is(model.services['claude-cli']!.volumes.length, 5, 'the .git/config bind into /workspace is replaced by the three git mounts');
});

test("a project bind whose path the task's branch lacks is left out (Docker would refuse the start)", (t) => {
  const model = taskModel(resolved(), { ...facts, exists: (path) => !path.endsWith('.vscode') }) as {
    services: Record<string, { volumes: Array<Record<string, unknown>> }>;
  };
  const targets = model.services['claude-cli']!.volumes.map((m) => m.target);
  t.false(targets.includes('/workspace/.vscode'));
  t.true(targets.includes('/workspace'));
});
