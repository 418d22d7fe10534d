/**
 * The built-in gateway end to end in compose (issue 7): team-key mode with
 * isolation, against a fake Anthropic upstream container of the test's own
 * (never the real API). The fake records every request's headers to a file in
 * a bind-mounted temp dir, so the test can read back what reached upstream.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { proxyEnvFile } from '../../lib/project/secrets.js';
import { privateDir } from '../../lib/project/private-dir.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { cctl, e2eEnv, composeCommand } from '../helpers/cli.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';
import { FAKE_MESSAGES_API as FAKE, REPLY } from '../helpers/fake-messages.js';

const TEAM_KEY = 'sk-team-test-key';

const tmp = tempProject('proxy');
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name });
// The team key must come from proxy.env as written below, not from the caller's shell.
delete env.ANTHROPIC_API_KEY;
delete env.ANTHROPIC_AUTH_TOKEN;
const file = join(tmp.dir, 'docker-compose.yml');
const fakeDir = join(tmp.dir, 'fake');
const recDir = join(tmp.dir, 'rec');
const recFile = join(recDir, 'requests.jsonl');
mkdirSync(fakeDir);
mkdirSync(recDir);
chmodSync(recDir, 0o777);
writeFileSync(join(fakeDir, 'fake.mjs'), FAKE);
writeFileSync(
  file,
  `# A fake Anthropic upstream of the test's own, on the default network only.
services:
  fake-upstream:
    image: ${BASE_IMAGE}
    command: ["node", "/srv/fake.mjs"]
    init: true
    volumes:
      - ./fake:/srv:ro
      - ./rec:/rec
`,
);

const dcArgv = (args: string[]) => [...composeCommand(), '-p', tmp.name, '-f', file, '--profile', 'claude', ...args];
const dc = (args: string[], timeoutMs?: number) => run(dcArgv(args), { cwd: tmp.dir, env, timeoutMs });
/** Never rejects (like cctl()); the child is killed after timeoutMs. */
function dcResult(args: string[], timeoutMs: number): Promise<RunResult> {
  return runSettled(dcArgv(args), { cwd: tmp.dir, env, timeoutMs });
}

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  stream?: boolean;
  model?: string;
}
/** What the gateway relays (lib/gateway/route.ts); Claude Code must need nothing else. */
const MESSAGES_ROUTES = ['POST /v1/messages', 'POST /v1/messages/count_tokens'];
const recorded = (): Recorded[] =>
  existsSync(recFile)
    ? readFileSync(recFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Recorded)
    : [];

let clientToken = '';

e2e.after.always(async () => {
  await dc(['down', '-v', '--timeout', '1']).catch(() => undefined);
  rmSync(privateDir(tmp.name, env), { recursive: true, force: true });
  await removeProjectImages(tmp.name);
  tmp.cleanup();
});

e2e.serial('init --auth team-key --isolate and up, with the fake upstream beside', async (t) => {
  const started = Date.now();
  const init = await cctl(['init', '--auth', 'team-key', '--upstream', 'http://fake-upstream:8080', '--isolate'], { cwd: tmp.dir, env });
  t.is(init.exitCode, 0, init.stderr);
  // Outside the project: the private folder of the user running cctl (issue 11).
  const proxyEnv = proxyEnvFile(tmp.name, env);
  const text = readFileSync(proxyEnv, 'utf8');
  t.regex(text, /^ANTHROPIC_API_KEY=$/m, 'init left an empty team key');
  writeFileSync(proxyEnv, text.replace(/^ANTHROPIC_API_KEY=$/m, `ANTHROPIC_API_KEY=${TEAM_KEY}`), { mode: 0o600 });
  clientToken = /^CCTL_CLIENT_TOKEN=(.+)$/m.exec(text)?.[1] ?? '';
  t.truthy(clientToken);
  await dc(['up', '-d', 'fake-upstream']);
  const up = await cctl(['up', '--timeout', '600'], { cwd: tmp.dir, env });
  t.is(up.exitCode, 0, up.stderr);
  t.log(`init + up: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

e2e.serial('a request from claude-cli through proxy reaches the fake upstream with the injected key', async (t) => {
  const before = recorded().length;
  const script =
    "fetch('http://proxy:3000/v1/messages',{method:'POST',headers:{authorization:'Bearer '+process.env.ANTHROPIC_AUTH_TOKEN,'content-type':'application/json'}," +
    "body:JSON.stringify({model:'claude-x',max_tokens:5,messages:[{role:'user',content:'hi'}]})}).then(async r=>{console.log(r.status, await r.text())})";
  const r = await dcResult(['exec', '-T', 'claude-cli', 'node', '-e', script], 60_000);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /^200 /);
  t.true(r.stdout.includes(REPLY), r.stdout);
  const fresh = recorded().slice(before);
  t.is(fresh.length, 1, JSON.stringify(fresh));
  const h = fresh[0]!.headers;
  t.is(fresh[0]!.url, '/v1/messages');
  t.is(h['x-api-key'], TEAM_KEY);
  t.is(h.authorization, undefined, 'the client token is removed');
  t.false(JSON.stringify(h).includes(clientToken), 'the client token never reaches upstream');
});

e2e.serial("claude-cli's environment holds no team key", async (t) => {
  const r = await dcResult(['exec', '-T', 'claude-cli', 'env'], 30_000);
  t.is(r.exitCode, 0, r.stderr);
  t.false(r.stdout.includes(TEAM_KEY));
  t.notRegex(r.stdout, /^ANTHROPIC_API_KEY=/m);
  t.regex(r.stdout, /^ANTHROPIC_AUTH_TOKEN=/m, 'claude-cli has its client token');
  t.regex(r.stdout, /^ANTHROPIC_BASE_URL=http:\/\/proxy:3000/m);
});

e2e.serial('in isolation mode claude-cli cannot reach the fake upstream directly; the proxy can', async (t) => {
  const probe =
    'const ac=new AbortController();setTimeout(()=>ac.abort(),5000);' +
    "fetch('http://fake-upstream:8080/v1/models',{signal:ac.signal}).then(r=>{console.log('REACHED',r.status);process.exit(0)},e=>{console.log('BLOCKED',(e.cause&&e.cause.code)||e.name);process.exit(3)})";
  const started = Date.now();
  const cli = await dcResult(['exec', '-T', 'claude-cli', 'node', '-e', probe], 30_000);
  t.is(cli.exitCode, 3, cli.stdout + cli.stderr);
  t.regex(cli.stdout, /BLOCKED/);
  t.log(`claude-cli → fake-upstream: ${cli.stdout.trim()} after ${Date.now() - started} ms`);
  // Not only name resolution: a connect to the fake's address on the default network fails too.
  const id = (await dc(['ps', '-q', 'fake-upstream'])).stdout.trim();
  const ip = (await run(['docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id])).stdout
    .trim()
    .split(' ')[0]!;
  t.regex(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const connect =
    `const s=require('net').connect(8080,'${ip}');s.setTimeout(3000,()=>{console.log('BLOCKED timeout');process.exit(3)});` +
    "s.on('connect',()=>{console.log('REACHED');process.exit(0)});s.on('error',e=>{console.log('BLOCKED',e.code);process.exit(3)})";
  const byIp = await dcResult(['exec', '-T', 'claude-cli', 'node', '-e', connect], 30_000);
  t.is(byIp.exitCode, 3, byIp.stdout + byIp.stderr);
  t.log(`claude-cli → ${ip}:8080: ${byIp.stdout.trim()}`);
  const proxy = await dcResult(['exec', '-T', 'proxy', 'node', '-e', probe], 30_000);
  t.is(proxy.exitCode, 0, proxy.stdout + proxy.stderr);
  t.regex(proxy.stdout, /REACHED 200/);
});

e2e.serial('the real Claude Code binary runs claude -p through the proxy and prints the fake reply', async (t) => {
  const before = recorded().length;
  const started = Date.now();
  const r = await dcResult(
    [
      'exec',
      '-T',
      '-e',
      'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1',
      '--user',
      'claude',
      '--workdir',
      '/workspace',
      'claude-cli',
      'claude',
      '-p',
      'say hello',
    ],
    120_000,
  );
  const fresh = recorded().slice(before);
  t.log(`claude -p: exit ${r.exitCode} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.log(
    `requests Claude Code sent: ${
      fresh
        .map(
          (f) =>
            `${f.method} ${f.url}${f.stream ? ' (stream)' : ''} model=${f.model ?? '-'} beta=${f.headers['anthropic-beta'] ?? '-'} ua=${f.headers['user-agent'] ?? '-'}`,
        )
        .join('; ') || 'none'
    }`,
  );
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.true(r.stdout.includes(REPLY), `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  t.true(fresh.length > 0);
  for (const f of fresh) {
    t.is(f.headers['x-api-key'], TEAM_KEY, `${f.method} ${f.url}`);
    t.is(f.headers.authorization, undefined, `${f.method} ${f.url}`);
    t.true(
      MESSAGES_ROUTES.includes(`${f.method} ${f.url.split('?')[0]}`),
      `only the Messages API reaches the upstream: ${f.method} ${f.url}`,
    );
  }
});

e2e.serial(
  'with its nonessential traffic on, claude -p still needs nothing but the Messages API, and the gateway refused nothing it asked',
  async (t) => {
    const since = new Date().toISOString();
    const before = recorded().length;
    const r = await dcResult(
      ['exec', '-T', '--user', 'claude', '--workdir', '/workspace', 'claude-cli', 'claude', '-p', 'say hello'],
      120_000,
    );
    t.is(r.exitCode, 0, r.stdout + r.stderr);
    t.true(r.stdout.includes(REPLY), r.stdout);
    const fresh = recorded().slice(before);
    t.log(`upstream saw: ${fresh.map((f) => `${f.method} ${f.url}`).join('; ')}`);
    for (const f of fresh) t.true(MESSAGES_ROUTES.includes(`${f.method} ${f.url.split('?')[0]}`), `${f.method} ${f.url}`);
    // Every path Claude Code sent to the gateway, from the gateway's own request log.
    const logs = (await dc(['logs', '--no-color', 'proxy'])).stdout.split('\n').filter((l) => l.includes('{"time":'));
    const asked = logs
      .map(
        (l) =>
          JSON.parse(l.slice(l.indexOf('{"time":'))) as { time: string; method?: string; path?: string; status?: number; event?: string },
      )
      .filter((l) => !l.event && l.path && l.time >= since);
    t.log(`claude -p sent the gateway: ${asked.map((l) => `${l.method} ${l.path} ${l.status}`).join('; ')}`);
    t.true(asked.length > 0);
    t.deepEqual(
      asked.filter((l) => l.status === 404),
      [],
      'Claude Code asked for no route the gateway refuses',
    );
  },
);
