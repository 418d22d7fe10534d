/**
 * Isolation with an allow-list, end to end (issue 15): a team-key stack with
 * `isolate`, whose only upstream is a fake Messages API of the test's own, and
 * two HTTPS servers of the test's own on the stack's default network as
 * `allowed.test` and `denied.test` (certificates from a throw-away CA). From
 * claude-cli, the proxy variables take curl through the gateway's CONNECT;
 * the allow-list lets one name through and refuses the other; nothing goes
 * around the gateway; `cctl egress` names the refusal and the command that
 * allows it, and that command works.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { proxyEnvFile } from '../../lib/project/secrets.js';
import { privateDir } from '../../lib/project/private-dir.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { cctl, CLI, e2eEnv, composeCommand } from '../helpers/cli.js';
import { FAKE_MESSAGES_API, REPLY } from '../helpers/fake-messages.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';

const TEAM_KEY = 'sk-team-egress-test';
/** The anthropic preset's hosts, played by the allowed.test server under aliases (login mode's first-start check). */
const ANTHROPIC_HOSTS = ['api.anthropic.com', 'platform.claude.com', 'claude.ai'];

/** An HTTPS server that says which name it serves. */
const HTTPS_SERVER = String.raw`
import https from 'node:https';
import { readFileSync } from 'node:fs';
const name = process.env.NAME;
https.createServer({ key: readFileSync('/tls/key.pem'), cert: readFileSync('/tls/cert.pem') }, (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello from ' + name + '\n');
}).listen(443, '0.0.0.0', () => console.log('https ' + name + ' on 443'));
`;

/**
 * Stands in for an SSH server: it waits for the client's identification line and answers with its own,
 * naming the client's software, so the client's debug output proves bytes went both ways.
 */
const SSH_BANNER = String.raw`
import net from 'node:net';
net.createServer((socket) => {
  let seen = '';
  socket.on('data', (d) => {
    if (seen.includes('\n')) return;
    seen += d.toString('latin1');
    const line = seen.split('\r\n')[0];
    if (seen.includes('\n')) socket.end('SSH-2.0-cctlfake_' + (line.split('-')[2] || 'unknown').split(' ')[0] + '\r\n');
  });
  socket.on('error', () => {});
}).listen(22, '0.0.0.0', () => console.log('ssh banner on 22'));
`;

/** git over SSH in isolation: the ssh ProxyCommand through the gateway's CONNECT, exactly as docs/GUIDE.md gives it. */
const CONNECT_PROXY_SCRIPT =
  /^(#!\/bin\/bash\n# ~\/\.ssh\/connect-proxy[^]*?)^```/m.exec(
    readFileSync(new URL('../../docs/GUIDE.md', import.meta.url), 'utf8'),
  )?.[1] ?? '';

const tmp = tempProject('egress');
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name });
delete env.ANTHROPIC_API_KEY;
delete env.ANTHROPIC_AUTH_TOKEN;
const file = join(tmp.dir, 'compose.yaml');
// claude-cli runs as `claude`; the workspace (this temp dir) and the test CA in it must be readable.
chmodSync(tmp.dir, 0o755);
const tls = join(tmp.dir, 'tls');
mkdirSync(tls);
mkdirSync(join(tmp.dir, 'srv'));
writeFileSync(join(tmp.dir, 'srv', 'fake.mjs'), FAKE_MESSAGES_API);
writeFileSync(join(tmp.dir, 'srv', 'https.mjs'), HTTPS_SERVER);
writeFileSync(join(tmp.dir, 'srv', 'ssh.mjs'), SSH_BANNER);

const server = (name: string, ...aliases: string[]) => `  ${name.replace('.', '-')}:
    image: ${BASE_IMAGE}
    command: ["node", "/srv/https.mjs"]
    environment: { NAME: ${name} }
    init: true
    volumes: [./srv:/srv:ro, ./tls:/tls:ro]
    networks:
      default:
        aliases: [${[name, ...aliases].join(', ')}]
`;
writeFileSync(
  file,
  `# The test's own services, on the default network only: claude-cli (isolated) cannot reach them directly.
services:
  fake-upstream:
    image: ${BASE_IMAGE}
    command: ["node", "/srv/fake.mjs"]
    init: true
    volumes: [./srv:/srv:ro]
${server('allowed.test', ...ANTHROPIC_HOSTS)}${server('denied.test')}  git-test:
    image: ${BASE_IMAGE}
    command: ["node", "/srv/ssh.mjs"]
    init: true
    volumes: [./srv:/srv:ro]
    networks:
      default:
        aliases: [git.test]
`,
);

const dcArgv = (args: string[]) => [...composeCommand(), '-p', tmp.name, '-f', file, '--profile', 'claude', ...args];
const dc = (args: string[], timeoutMs = 120_000) => run(dcArgv(args), { cwd: tmp.dir, env, timeoutMs });
function dcResult(args: string[], timeoutMs: number): Promise<RunResult> {
  return runSettled(dcArgv(args), { cwd: tmp.dir, env, timeoutMs });
}
const opts = { cwd: tmp.dir, env };
const curl = (url: string, ...extra: string[]) =>
  cctl(['exec', '--', 'curl', '-sS', '--max-time', '10', '--cacert', '/workspace/tls/ca.pem', ...extra, url], opts);

e2e.after.always(async () => {
  await dc(['down', '-v', '--timeout', '1']).catch(() => undefined);
  // The image tags are this project's own; their layers stay shared with the other tests' images.
  await removeProjectImages(tmp.name);
  rmSync(privateDir(tmp.name, env), { recursive: true, force: true });
  tmp.cleanup();
});

e2e.serial('init --isolate --allow allowed.test writes the allow-list, and the stack comes up', async (t) => {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: tls });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=cctl egress test CA',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', '/CN=allowed.test');
  writeFileSync(
    join(tls, 'ext.cnf'),
    `subjectAltName=${['allowed.test', 'denied.test', ...ANTHROPIC_HOSTS].map((h) => `DNS:${h}`).join(',')}\n`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'req.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  for (const f of ['ca.pem', 'key.pem', 'cert.pem']) chmodSync(join(tls, f), 0o644);
  chmodSync(tls, 0o755);

  const init = await cctl(
    [
      'init',
      '--auth',
      'team-key',
      '--upstream',
      'http://fake-upstream:8080',
      '--isolate',
      '--allow',
      'allowed.test',
      '--allow',
      'git.test:22',
    ],
    opts,
  );
  t.is(init.exitCode, 0, init.stderr);
  t.regex(init.stdout, /Isolated: claude-cli reaches only the gateway, and through it anthropic, allowed\.test, git\.test:22 \(5 hosts\)/);
  const compose = readFileSync(file, 'utf8');
  t.regex(compose, /allow: \[anthropic, allowed\.test, git\.test:22\]/);
  t.regex(compose, /CCTL_EGRESS_ALLOW: api\.anthropic\.com:443,claude\.ai:443,platform\.claude\.com:443,allowed\.test:443,git\.test:22/);
  // Outside the project: the private folder of the user running cctl (issue 11).
  const proxyEnv = proxyEnvFile(tmp.name, env);
  writeFileSync(proxyEnv, readFileSync(proxyEnv, 'utf8').replace(/^ANTHROPIC_API_KEY=$/m, `ANTHROPIC_API_KEY=${TEAM_KEY}`), {
    mode: 0o600,
  });
  await dc(['up', '-d', 'fake-upstream', 'allowed-test', 'denied-test', 'git-test']);
  const up = await cctl(['up', '--timeout', '600'], opts);
  t.is(up.exitCode, 0, up.stderr);
});

const quoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Runs a command in a tmux TTY; at each step waits for `until` on the screen, then types `keys`. Returns the last screen. */
async function ttySession(name: string, command: string, steps: { until: RegExp; keys?: string }[]): Promise<string> {
  const exported = Object.entries(env)
    .filter(([k, v]) => v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `export ${k}=${quoted(v!)}`);
  const socket = `cctl-${tmp.name}-${name}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: 'pipe' });
  const script = join(tmp.dir, `${name}.sh`);
  writeFileSync(script, [...exported, `cd ${quoted(tmp.dir)}`, command, 'echo "[exit $?]"', 'sleep 120', ''].join('\n'));
  tmux('new-session', '-d', '-s', name, '-x', '160', '-y', '40', `sh ${quoted(script)}`);
  let screen = '';
  const pane = () => {
    try {
      screen = tmux('capture-pane', '-p', '-t', name);
    } catch {
      // The session ended; keep its last screen.
    }
    return screen;
  };
  try {
    for (const step of steps) {
      for (let i = 0; i < 300 && !step.until.test(pane()); i++) await new Promise((r) => setTimeout(r, 200));
      if (step.keys && step.until.test(pane())) tmux('send-keys', '-t', name, step.keys);
    }
    return pane();
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  }
}
/** First start of Claude Code: theme, then the security notes, then whatever comes next. */
const FIRST_START = [
  { until: /Choose the text style/, keys: 'Enter' },
  { until: /Press Enter to continue|Unable to connect/, keys: 'Enter' },
];

e2e.serial('team-key: the first cctl claude in a TTY reaches the workspace trust prompt, with only the gateway as a way out', async (t) => {
  // A fresh home volume: nothing seeded. With the client token in its environment Claude Code makes no
  // first-start check of api.anthropic.com (checked: without a token it fails "Unable to connect").
  const screen = await ttySession('claude', `${quoted(process.execPath)} ${quoted(CLI)} claude`, [
    ...FIRST_START,
    { until: /Yes, I trust this folder|Unable to connect/ },
  ]);
  t.regex(screen, /Yes, I trust this folder/, screen);
  t.notRegex(screen, /Unable to connect/);
});

e2e.serial('curl through the proxy variables reaches allowed.test', async (t) => {
  const r = await curl('https://allowed.test');
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.stdout, 'hello from allowed.test\n');
});

e2e.serial('denied.test is refused with 403 and a body that names the host and how to allow it', async (t) => {
  const r = await curl('https://denied.test');
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /403/, r.stderr);
  // The refusal's body, read with a raw CONNECT from claude-cli.
  const probe =
    "const s=require('net').connect(3000,'proxy',()=>s.write('CONNECT denied.test:443 HTTP/1.1\\r\\nHost: denied.test:443\\r\\n\\r\\n'));" +
    "let b='';s.on('data',d=>{b+=d});const done=()=>{console.log(b);process.exit(0)};s.on('end',done);s.on('error',done);s.setTimeout(5000,done)";
  const raw = await cctl(['exec', '--', 'node', '-e', probe], opts);
  t.regex(raw.stdout, /^HTTP\/1\.1 403/, raw.stdout);
  t.regex(raw.stdout, /denied\.test/);
  t.regex(raw.stdout, /allow/i);
});

e2e.serial('git and npm take the same way: through the gateway to allowed.test, refused at denied.test', async (t) => {
  const git = (host: string) =>
    cctl(['exec', '--', 'git', '-c', 'http.sslCAInfo=/workspace/tls/ca.pem', 'ls-remote', `https://${host}/team/repo.git`], opts);
  const allowed = await git('allowed.test');
  // The stand-in is no git server: git reaches it and finds no repository there.
  t.not(allowed.exitCode, 0);
  t.notRegex(allowed.stderr, /resolve host|CONNECT tunnel failed|Failed to connect/i, allowed.stderr);
  t.regex(allowed.stderr, /repository|not valid|HTTP/i, allowed.stderr);
  const denied = await git('denied.test');
  t.regex(denied.stderr, /CONNECT tunnel failed, response 403/, denied.stderr);
  const npm = (host: string) =>
    cctl(
      [
        'exec',
        '--',
        'npm',
        'view',
        '--cafile',
        '/workspace/tls/ca.pem',
        '--registry',
        `https://${host}/`,
        '--fetch-retries',
        '0',
        'left-pad',
        'version',
      ],
      opts,
    );
  const npmAllowed = await npm('allowed.test');
  t.log(
    `npm view via allowed.test: exit ${npmAllowed.exitCode}, ${(npmAllowed.stderr || npmAllowed.stdout).trim().split('\n').slice(0, 2).join(' / ') || 'no output'}`,
  );
  t.notRegex(npmAllowed.stderr, /ENOTFOUND|EAI_AGAIN|403/, npmAllowed.stderr);
  const npmDenied = await npm('denied.test');
  t.not(npmDenied.exitCode, 0);
  t.regex(npmDenied.stderr, /403/, npmDenied.stderr);
});

e2e.serial('nothing goes around the gateway: no name, and no route to the server by address', async (t) => {
  const direct = await curl('https://allowed.test', '--noproxy', '*');
  t.not(direct.exitCode, 0, 'a direct request must fail');
  const id = (await dc(['ps', '-q', 'allowed-test'])).stdout.trim();
  const ip = (await run(['docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id])).stdout
    .trim()
    .split(' ')[0]!;
  t.regex(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const connect =
    `const s=require('net').connect(443,'${ip}');s.setTimeout(3000,()=>{console.log('BLOCKED timeout');process.exit(3)});` +
    "s.on('connect',()=>{console.log('REACHED');process.exit(0)});s.on('error',e=>{console.log('BLOCKED',e.code);process.exit(3)})";
  const byIp = await cctl(['exec', '--', 'node', '-e', connect], opts);
  t.is(byIp.exitCode, 3, byIp.stdout + byIp.stderr);
  t.log(`claude-cli → ${ip}:443 directly: ${byIp.stdout.trim()}`);
});

e2e.serial('git over SSH: ssh with the documented ProxyCommand exchanges identification with git.test:22 through CONNECT', async (t) => {
  t.regex(CONNECT_PROXY_SCRIPT, /CONNECT/, 'the guide holds the script');
  const install = await cctl(
    ['exec', '--', 'sh', '-c', 'mkdir -p ~/.ssh && cat > ~/.ssh/connect-proxy && chmod 755 ~/.ssh/connect-proxy'],
    { ...opts, input: CONNECT_PROXY_SCRIPT },
  );
  t.is(install.exitCode, 0, install.stderr);
  const ssh = (host: string) =>
    cctl(
      [
        'exec',
        '--',
        'ssh',
        '-v',
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'ConnectTimeout=10',
        '-o',
        'ProxyCommand=~/.ssh/connect-proxy %h %p',
        `git@${host}`,
      ],
      opts,
    );
  const r = await ssh('git.test');
  // The fake answers with the client's own software name: both directions went through the tunnel.
  t.regex(r.stderr, /remote software version cctlfake_OpenSSH/, r.stderr);
  const denied = await ssh('denied.test');
  t.not(denied.exitCode, 0);
  t.regex(denied.stderr, /connect-proxy: denied\.test:22: HTTP\/1\.1 403/, denied.stderr);
  t.regex(denied.stderr, /cctl init --allow denied\.test:22/);
});

e2e.serial('the real claude -p still answers through the gateway (NO_PROXY keeps the API direct)', async (t) => {
  const r = await dcResult(
    ['exec', '-T', '--user', 'claude', '--workdir', '/workspace', 'claude-cli', 'claude', '-p', 'say hello'],
    180_000,
  );
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.true(r.stdout.includes(REPLY), `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
});

e2e.serial("login mode: Claude Code's first-start check reaches api.anthropic.com through CONNECT and the anthropic preset", async (t) => {
  // The anthropic preset's hosts are the allowed.test server under aliases on the default network, with a
  // certificate from the test CA; the run has no token, as in login mode, so Claude Code makes its
  // first-start check (of api.anthropic.com, then platform.claude.com), through CONNECT.
  const exec = `${composeCommand().join(' ')} -p ${tmp.name} -f ${quoted(file)} --profile claude exec -e ANTHROPIC_AUTH_TOKEN= -e CLAUDE_CONFIG_DIR=/tmp/login-mode -e NODE_EXTRA_CA_CERTS=/workspace/tls/ca.pem claude-cli claude-wrapper.sh`;
  const screen = await ttySession('login', exec, [
    FIRST_START[0]!,
    { until: /Unable to connect|login method|Claude account|Anthropic Console|Press Enter to continue/i },
  ]);
  t.notRegex(screen, /Unable to connect/, screen);
  t.regex(screen, /login method|Claude account|Anthropic Console|Press Enter to continue/i, screen);
  t.log(
    screen
      .split('\n')
      .filter((l) => l.trim() && !/[░█]/.test(l))
      .slice(-6)
      .map((l) => l.trim())
      .join(' | '),
  );
  // A tunnel's log line is written when it closes: end the session's Claude Code (a TTY exec outlives its client).
  await dcResult(['exec', '-T', 'claude-cli', 'pkill', '-f', 'claude'], 30_000);
  let logs = '';
  for (let i = 0; i < 50 && !/"host":"platform\.claude\.com"/.test(logs); i++) {
    logs = (await dc(['logs', '--no-color', 'proxy'])).stdout;
    if (!/"host":"platform\.claude\.com"/.test(logs)) await new Promise((r) => setTimeout(r, 200));
  }
  t.regex(logs, /"event":"egress".*"decision":"allowed".*"host":"api\.anthropic\.com"/);
  t.regex(logs, /"event":"egress".*"decision":"allowed".*"host":"platform\.claude\.com"/);
});

e2e.serial('a dotless service name is refused with advice that cctl init --allow accepts (name:443)', async (t) => {
  // The compose service name itself, as a team's own service is reached: the gateway used to advise the bare word.
  const probe =
    "const s=require('net').connect(3000,'proxy',()=>s.write('CONNECT denied-test:443 HTTP/1.1\\r\\nHost: denied-test:443\\r\\n\\r\\n'));" +
    "let b='';s.on('data',d=>{b+=d});const done=()=>{console.log(b);process.exit(0)};s.on('end',done);s.on('error',done);s.setTimeout(5000,done)";
  const raw = await cctl(['exec', '--', 'node', '-e', probe], opts);
  t.regex(raw.stdout, /^HTTP\/1\.1 403/, raw.stdout);
  t.regex(raw.stdout, /cctl init --allow denied-test:443 && cctl up/, raw.stdout);
});

e2e.serial('cctl egress lists denied.test with its count and the command that allows it', async (t) => {
  const json = await cctl(['egress', '--json'], opts);
  t.is(json.exitCode, 0, json.stderr);
  const report = JSON.parse(json.stdout) as {
    denied: { destination: string; count: number; allow: string }[];
    allowed: { destination: string }[];
  };
  const denied = report.denied.find((d) => d.destination === 'denied.test:443');
  t.truthy(denied, json.stdout);
  t.true(denied!.count >= 2, 'curl and the raw CONNECT');
  t.is(denied!.allow, 'cctl init --allow denied.test');
  t.true(
    report.allowed.some((a) => a.destination === 'allowed.test:443'),
    json.stdout,
  );
  const text = await cctl(['egress'], opts);
  t.is(text.exitCode, 0, text.stderr);
  t.regex(text.stdout, /denied\.test:443\s+\S+\s+cctl init --allow denied\.test/);
  t.is(report.denied.find((d) => d.destination === 'denied-test:443')?.allow, 'cctl init --allow denied-test:443', json.stdout);
});

e2e.serial('the suggested commands allow denied.test and denied-test after cctl up', async (t) => {
  const report = JSON.parse((await cctl(['egress', '--json'], opts)).stdout) as { denied: { destination: string; allow?: string }[] };
  for (const destination of ['denied.test:443', 'denied-test:443']) {
    const advice = report.denied.find((d) => d.destination === destination)?.allow;
    t.truthy(advice, destination);
    const init = await cctl(advice!.split(' ').slice(1), opts);
    t.is(init.exitCode, 0, `${advice}: ${init.stderr}`);
  }
  const up = await cctl(['up', '--timeout', '300'], opts);
  t.is(up.exitCode, 0, up.stderr);
  const r = await curl('https://denied.test');
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.stdout, 'hello from denied.test\n');
  // Its certificate names denied.test only; what matters here is that the tunnel opens.
  const byService = await curl('https://denied-test', '--insecure');
  t.is(byService.exitCode, 0, byService.stderr);
  t.is(byService.stdout, 'hello from denied.test\n');
});
