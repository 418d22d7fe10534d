/**
 * A team's compose file that already has a service of its own named proxy, in team-key mode, as a regular
 * user: init names the clash and leaves the file alone (no --force suggested); with the gateway renamed by
 * proxy-service, init keeps the team's services byte for byte and the key lives in the private folder only;
 * the renamed gateway carries claude-cli's requests to the (fake) upstream with the key; plain Compose still
 * runs the same files.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../helpers/e2e.js';
import { composeCommand } from '../helpers/cli.js';
import { REPLY } from '../helpers/fake-messages.js';
import { HOST_UID, TEAM_KEY_INIT, USER_PROXY, teamKeyStack } from '../helpers/team-key-stack.js';
import { run } from '../../lib/engine/runner.js';

const stack = teamKeyStack('secproxy');
const { tmp, file, privateDir, cctl, compose, asUser } = stack;

e2e.serial('a user service named proxy is not taken over: init names the clash, not --force', async (t) => {
  const r = await cctl(...TEAM_KEY_INIT);
  t.is(r.exitCode, 1, r.stdout);
  t.regex(r.stderr, /already has a service named "proxy" that cctl did not create/);
  t.notRegex(r.stderr, /--force/);
  t.regex(r.stderr, /proxy-service=/);
  t.is(readFileSync(file, 'utf8'), USER_PROXY);
});

e2e.serial('init with a renamed gateway keeps the user service byte for byte; the key goes to the private folder', async (t) => {
  const r = await cctl(...TEAM_KEY_INIT, '--set', 'proxy-service=cctl-proxy');
  t.is(r.exitCode, 0, r.stderr);
  t.true(readFileSync(file, 'utf8').startsWith(USER_PROXY));
  const proxyEnv = join(privateDir, 'proxy.env');
  t.is(statSync(privateDir).mode & 0o777, 0o700);
  t.is(statSync(proxyEnv).mode & 0o777, 0o600);
  t.is(statSync(proxyEnv).uid, HOST_UID);
  writeFileSync(proxyEnv, readFileSync(proxyEnv, 'utf8').replace(/^ANTHROPIC_API_KEY=$/m, `ANTHROPIC_API_KEY=${stack.teamKey}`));
  const inTree = spawnSync('grep', ['-rl', '--', stack.teamKey, tmp.dir], { encoding: 'utf8' });
  t.is(inTree.status, 1, `the key is in no file under the project: ${inTree.stdout}`);
});

e2e.serial('up as dev starts the stack; the renamed gateway carries a request with the key', async (t) => {
  t.is((await compose('up', '-d', 'fake-upstream', 'proxy')).exitCode, 0);
  const up = await cctl('up', '--timeout', '900');
  t.is(up.exitCode, 0, up.stderr + up.stdout);
  const script =
    "fetch(process.env.ANTHROPIC_BASE_URL+'/v1/messages',{method:'POST',headers:{authorization:'Bearer '+process.env.ANTHROPIC_AUTH_TOKEN,'content-type':'application/json'}," +
    "body:JSON.stringify({model:'claude-x',max_tokens:5,messages:[{role:'user',content:'hi'}]})}).then(async r=>{console.log(r.status,process.env.ANTHROPIC_BASE_URL,await r.text())})";
  const r = await compose('exec', '-T', 'claude-cli', 'node', '-e', script);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /^200 http:\/\/cctl-proxy:3000 /);
  t.true(r.stdout.includes(REPLY));
  // status follows the renamed gateway; the user's proxy is not cctl's to report.
  const status = await cctl('status', '--json');
  const names = (JSON.parse(status.stdout) as { services: Array<{ name: string; health: string }> }).services.map(
    (x) => `${x.name}:${x.health}`,
  );
  t.deepEqual(names.sort(), ['cctl-proxy:healthy', 'claude-cli:healthy']);
  const logs = await cctl('logs', 'cctl-proxy', '--tail', '5');
  t.is(logs.exitCode, 0, logs.stderr);
  // The team's own proxy still answers as before.
  const front = await compose('exec', '-T', 'proxy', 'node', '-e', "fetch('http://127.0.0.1:8081').then(r=>r.text()).then(console.log)");
  t.is(front.stdout.trim(), 'the team front');
});

e2e.serial(
  'plain docker compose works on the same files (the committed one, then the per-machine one that names the secrets)',
  async (t) => {
    // Compose v1 offers no COMPOSE_PROJECT_NAME for interpolation: its users export it, as the guide says.
    const v1 = composeCommand(stack.env)[0] === 'docker-compose';
    const machine = join(privateDir, 'compose.machine.yaml');
    const both = [...composeCommand(stack.env), '-f', file, '-f', machine, '-p', tmp.name, '--profile', 'claude', 'up', '-d'];
    const r = v1 ? await asUser(['env', `COMPOSE_PROJECT_NAME=${tmp.name}`, ...both]) : await asUser(both);
    t.is(r.exitCode, 0, r.stderr);
    // docker ps, not compose ps: v1's ps has no --format.
    const ps = await run([
      'docker',
      'ps',
      '--filter',
      `label=com.docker.compose.project=${tmp.name}`,
      '--filter',
      'label=com.docker.compose.service=cctl-proxy',
      '--format',
      '{{.Status}}',
    ]);
    t.regex(ps.stdout, /^Up/m);
  },
);
