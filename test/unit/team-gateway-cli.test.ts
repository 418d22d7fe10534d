/**
 * The CLI side of the team gateway: the server folder that `gateway init`
 * writes (compose file, secrets and their modes), a member's credential in
 * proxy.env, `usage --team`'s report table, and the gateway verbs through
 * the one process fake.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../lib/cli.js';
import { ADMIN_TOKEN_FILE, gatewayComposeText, KEY_FILE, writeGatewayFolder, type GatewaySetup } from '../../lib/project/team-gateway.js';
import { checkMemberToken, teamGatewayUrl, writeMemberCredential } from '../../lib/project/team-member.js';
import { proxyEnvFile } from '../../lib/project/secrets.js';
import { currentLedger, LEDGER_URL_FILE, METRICS_TOKEN_FILE, parseLedger, writeLedgerSecrets } from '../../lib/project/gateway-ledger.js';
import { teamAccess, teamReportOf, teamUsageTable } from '../../lib/ops/team-usage.js';
import { gatewayProject } from '../../lib/ops/team-gateway.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';

const SETUP: GatewaySetup = {
  port: 8443,
  upstream: 'https://api.anthropic.com',
  baseImage: 'node:22-bookworm-slim',
  retentionDays: 400,
  tls: false,
  buildHash: 'abc123',
  listen: '0.0.0.0',
  image: 'cctl-t-gateway:local',
};
const temps: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-teamgw-unit-'));
  temps.push(dir);
  return dir;
};
test.after.always(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
const mode = (file: string) => statSync(file).mode & 0o777;

test('the compose file: one gateway service in team mode, the ledger volume, file secrets, a health check, no privileges', (t) => {
  const doc = parse(gatewayComposeText(SETUP)) as Record<string, any>;
  const gw = doc.services.gateway;
  t.is(gw.environment.CCTL_GATEWAY_MODE, 'team');
  t.is(gw.environment.ANTHROPIC_API_KEY_FILE, '/run/secrets/anthropic_api_key');
  t.deepEqual(gw.secrets, ['anthropic_api_key', 'admin_token', 'metrics_token']);
  t.is(gw.environment.CCTL_METRICS_TOKEN_FILE, '/run/secrets/metrics_token');
  t.is(gw.environment.CCTL_LEDGER_URL_FILE, undefined, 'SQLite unless told');
  t.deepEqual(gw.volumes, ['ledger:/data']);
  t.deepEqual(gw.ports, ['0.0.0.0:8443:3000']);
  t.is(gw.image, 'cctl-t-gateway:local');
  t.deepEqual(gw.cap_drop, ['ALL']);
  t.true(gw.read_only);
  t.deepEqual(gw.healthcheck.test, ['CMD', 'node', '/app/gateway/main.js', 'health']);
  t.deepEqual(Object.keys(doc.volumes), ['ledger']);
  t.is(doc.secrets.anthropic_api_key.file, './secrets/anthropic-api-key');
  t.deepEqual(doc['x-cctl-gateway'], { version: 1, port: 8443, tls: false, listen: '0.0.0.0', ledger: 'sqlite' });
  const tls = parse(gatewayComposeText({ ...SETUP, tls: true })) as Record<string, any>;
  t.is(tls.services.gateway.environment.CCTL_TLS_CERT_FILE, '/run/secrets/tls_cert');
  t.deepEqual(tls.services.gateway.secrets.slice(3), ['tls_cert', 'tls_key']);
  const pg = parse(gatewayComposeText({ ...SETUP, ledger: 'postgres' })) as Record<string, any>;
  t.is(pg.services.gateway.environment.CCTL_LEDGER_URL_FILE, '/run/secrets/ledger_url', 'the URL (with its password) is a secret file');
  t.deepEqual(pg.services.gateway.secrets, ['anthropic_api_key', 'admin_token', 'metrics_token', 'ledger_url']);
  t.is(pg.secrets.ledger_url.file, './secrets/ledger-url');
  t.false(gatewayComposeText({ ...SETUP, ledger: 'postgres' }).includes('postgres://'));
});

test('--ledger: sqlite or a postgres:// URL, stored as a secret; a bad one is refused without echoing its password', (t) => {
  const dir = temp();
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  t.deepEqual(parseLedger('sqlite'), { kind: 'sqlite' });
  const url = 'postgres://cctl:s3cret@db.internal:5432/cctl';
  t.deepEqual(parseLedger(url), { kind: 'postgres', url });
  t.deepEqual(parseLedger('postgres'), { kind: 'postgres', service: true });
  for (const bad of ['mysql://u:p@h/db', 'postgres://cctl:s3cret@/cctl', 'postgres://cctl:s3cret@db', 'postgresql', 'pg']) {
    const error = t.throws(() => parseLedger(bad));
    t.false(error!.message.includes('s3cret'), error!.message);
  }
  writeLedgerSecrets(dir, parseLedger(url));
  t.is(readFileSync(join(dir, LEDGER_URL_FILE), 'utf8'), `${url}\n`);
  t.is(currentLedger(dir), 'postgres');
  const token = readFileSync(join(dir, METRICS_TOKEN_FILE), 'utf8');
  t.true(token.trim().length >= 32);
  writeLedgerSecrets(dir, parseLedger('sqlite'));
  t.is(currentLedger(dir), 'sqlite');
  t.is(readFileSync(join(dir, METRICS_TOKEN_FILE), 'utf8'), token, 'the metrics token is kept');
});

/** Runs `cctl gateway ...` through main with stdout and stderr captured. */
async function gatewayCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await withEngine(new FakeEngine(), () => main(['gateway', ...args]));
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

test.serial(
  '--ledger postgres: a Postgres service with its volume, health check and generated password; the URL names it; kept on a re-run',
  async (t) => {
    const dir = join(temp(), 'gw');
    const first = await gatewayCli(['init', '--ledger', 'postgres', '--dir', dir, '--json']);
    t.is(first.code, 0, first.stderr);
    t.is(JSON.parse(first.stdout).ledger, 'postgres-service');
    const doc = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Record<string, any>;
    const pg = doc.services.postgres;
    t.is(pg.image, 'cctl-gw-postgres:local');
    t.is(pg.build.context, '.cctl/postgres');
    t.deepEqual(pg.volumes, ['postgres:/var/lib/postgresql/data']);
    t.deepEqual(Object.keys(doc.volumes), ['ledger', 'postgres']);
    t.is(pg.environment.POSTGRES_PASSWORD_FILE, '/run/secrets/postgres_password');
    t.deepEqual(pg.secrets, ['postgres_password']);
    t.is(doc.secrets.postgres_password.file, './secrets/postgres-password');
    t.is(pg.healthcheck.test[1], 'pg_isready');
    t.is(pg.ports, undefined, 'the database is on the project network only');
    t.deepEqual(pg.cap_drop, ['ALL']);
    t.deepEqual(doc.services.gateway.depends_on, ['postgres']);
    t.is(doc.services.gateway.environment.CCTL_LEDGER_URL_FILE, '/run/secrets/ledger_url');
    t.is(doc.services.gateway.build.args.CCTL_BUILD_HASH, pg.build.args.CCTL_BUILD_HASH, 'one build hash for both images');
    const password = readFileSync(join(dir, 'secrets', 'postgres-password'), 'utf8').trim();
    t.regex(password, /^[A-Za-z0-9_-]{32}$/);
    t.is(mode(join(dir, 'secrets', 'postgres-password')), 0o644);
    t.is(readFileSync(join(dir, LEDGER_URL_FILE), 'utf8'), `postgres://cctl:${password}@postgres:5432/cctl\n`);
    t.false(readFileSync(join(dir, 'compose.yaml'), 'utf8').includes(password), 'the password is never in compose.yaml');
    for (const f of ['Dockerfile', 'entrypoint.sh', join('certs', 'README')])
      t.true(readFileSync(join(dir, '.cctl', 'postgres', f)).length > 0, f);
    t.is(mode(join(dir, '.cctl', 'postgres', 'entrypoint.sh')), 0o755);

    // Again without --ledger: the service and, above all, its password stay (the volume's cluster was made with it).
    t.is((await gatewayCli(['init', '--port', '3999', '--dir', dir])).code, 0);
    t.is(readFileSync(join(dir, 'secrets', 'postgres-password'), 'utf8').trim(), password);
    t.truthy((parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Record<string, any>).services.postgres);

    // The team's own image: no build section; back to sqlite: no service, no URL, the build folder goes.
    t.is((await gatewayCli(['init', '--ledger', 'postgres', '--postgres-image', 'postgres:16', '--dir', dir])).code, 0);
    const own = (parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Record<string, any>).services.postgres;
    t.is(own.image, 'postgres:16');
    t.is(own.build, undefined);
    t.is(readFileSync(join(dir, 'secrets', 'postgres-password'), 'utf8').trim(), password);
    t.is((await gatewayCli(['init', '--ledger', 'sqlite', '--dir', dir])).code, 0);
    const back = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Record<string, any>;
    t.is(back.services.postgres, undefined);
    t.is(back.services.gateway.depends_on, undefined);
    t.is(currentLedger(dir), 'sqlite');
    t.throws(() => statSync(join(dir, '.cctl', 'postgres', 'Dockerfile')), undefined, 'the Postgres build folder is removed');
  },
);

test.serial('--postgres-image without a Postgres service, or not an image name, is refused and nothing is written', async (t) => {
  const dir = join(temp(), 'gw');
  const lonely = await gatewayCli(['init', '--postgres-image', 'postgres:16', '--dir', dir]);
  t.is(lonely.code, 2);
  t.regex(lonely.stderr, /--postgres-image[\s\S]*--ledger postgres --postgres-image IMAGE/);
  const bad = await gatewayCli(['init', '--ledger', 'postgres', '--postgres-image', 'x; rm -rf /', '--dir', dir]);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /must be an image name/);
  t.throws(() => statSync(join(dir, 'compose.yaml')));
});

test('init writes a 0700 secrets folder; the admin token is kept on a second run, the key comes from --key-file', (t) => {
  const dir = temp();
  const keyFile = join(dir, 'k');
  writeFileSync(keyFile, 'sk-ant-from-file\n');
  const first = writeGatewayFolder(dir, SETUP, { keyFile }, {});
  t.false(first.keyMissing);
  t.is(mode(join(dir, 'secrets')), 0o700);
  t.is(mode(join(dir, KEY_FILE)), 0o644, 'readable by the container user through the mount; the folder keeps host users out');
  t.is(readFileSync(join(dir, KEY_FILE), 'utf8'), 'sk-ant-from-file\n');
  const admin = readFileSync(join(dir, ADMIN_TOKEN_FILE), 'utf8');
  t.regex(admin, /^[A-Za-z0-9_-]{43}\n$/);
  t.false(readFileSync(join(dir, 'compose.yaml'), 'utf8').includes('sk-ant'), 'the key is never in the compose file');
  writeGatewayFolder(dir, { ...SETUP, port: 9000 }, {}, { ANTHROPIC_API_KEY: 'sk-other' });
  t.is(readFileSync(join(dir, ADMIN_TOKEN_FILE), 'utf8'), admin);
  t.is(readFileSync(join(dir, KEY_FILE), 'utf8'), 'sk-ant-from-file\n', "the runner's ANTHROPIC_API_KEY fills only an empty key file");
});

test('init without a key leaves an empty key file and says so; TLS needs both files', (t) => {
  const dir = temp();
  t.true(writeGatewayFolder(dir, SETUP, {}, {}).keyMissing);
  t.false(writeGatewayFolder(dir, SETUP, {}, { ANTHROPIC_API_KEY: 'sk-env' }).keyMissing);
  const cert = join(dir, 'c.pem');
  writeFileSync(cert, 'CERT');
  t.throws(() => writeGatewayFolder(temp(), { ...SETUP, tls: true }, { tlsCert: cert }, {}), { message: /holds no PEM certificate/ });
  writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n');
  t.throws(() => writeGatewayFolder(temp(), { ...SETUP, tls: true }, { tlsCert: cert }, {}), { message: /both --tls-cert and --tls-key/ });
});

test('a member credential replaces any team key in proxy.env and keeps the client token', (t) => {
  const home = temp();
  const env = { HOME: home };
  const file = proxyEnvFile('shop', env);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '# comment\nCCTL_CLIENT_TOKEN=client-123\nANTHROPIC_API_KEY=\n');
  writeMemberCredential('shop', 'cctl_member_first', env);
  writeMemberCredential('shop', 'cctl_member_second', env);
  const text = readFileSync(file, 'utf8');
  t.regex(text, /^CCTL_CLIENT_TOKEN=client-123$/m);
  t.regex(text, /^ANTHROPIC_AUTH_TOKEN=cctl_member_second$/m);
  t.regex(text, /^CCTL_PROJECT_NAME=shop$/m);
  t.notRegex(text, /ANTHROPIC_API_KEY|cctl_member_first/);
  t.is(text.match(/^ANTHROPIC_AUTH_TOKEN=/gm)?.length, 1);
  t.is(mode(file), 0o600);
});

test('--team-gateway takes a plain http(s) URL and a member token only', (t) => {
  t.is(teamGatewayUrl('https://gw.example.com/'), 'https://gw.example.com');
  t.throws(() => teamGatewayUrl('gw.example.com'), { message: /needs a URL/ });
  t.throws(() => teamGatewayUrl('https://gw.example.com/?token=x'), { message: /plain URL/ });
  t.is(checkMemberToken(' cctl_member_abcdefghijklmnopqrstuvwxyz \n'), 'cctl_member_abcdefghijklmnopqrstuvwxyz');
  t.throws(() => checkMemberToken('sk-ant-api03-real-key'), { message: /not a member token/ });
});

test('usage --team: reports, the table with its total line, and where the gateway is', (t) => {
  t.is(teamReportOf(undefined), 'daily');
  t.throws(() => teamReportOf('weekly'), { message: /Unknown team report/ });
  const row = (member: string, n: number) => ({
    member,
    requests: n,
    errors: 0,
    inputTokens: 1000 * n,
    outputTokens: 10 * n,
    cacheCreationTokens: n,
    cacheReadTokens: 2 * n,
    totalTokens: 1013 * n,
    cost: 0.5 * n,
  });
  const table = teamUsageTable('member', [row('ann', 1), row('ben', 2)]);
  const trimmed = table.map((r) => r.map((c) => c.trim()));
  t.deepEqual(trimmed[0], ['Member', 'Input', 'Output', 'Cache Create', 'Cache Read', 'Total Tokens', 'Cost (USD)', 'Requests']);
  t.deepEqual(trimmed[2], ['ben', '2,000', '20', '2', '4', '2,026', '$1.00', '2']);
  t.deepEqual(trimmed[3], ['Total', '3,000', '30', '3', '6', '3,039', '$1.50', '3']);
  t.is(table[2]![1], '2,000', 'figures are right-aligned under their heading');
  t.is(table[2]![2], '    20');
  t.throws(() => teamAccess({}, {}, temp()), { message: /needs the team gateway and its admin token/ });
  t.deepEqual(teamAccess({ gatewayUrl: 'https://gw/' }, { CCTL_ADMIN_TOKEN: 'adm' }, temp()), { url: 'https://gw', adminToken: 'adm' });
  const server = temp();
  writeGatewayFolder(join(server, 'team-gateway'), SETUP, {}, {});
  t.is(teamAccess({}, {}, server).url, 'http://127.0.0.1:8443', 'on the server, the folder says where it listens');
});

test.serial('gateway member add runs the member CLI in the gateway container and prints the token once', async (t) => {
  const dir = temp();
  writeGatewayFolder(dir, SETUP, {}, {});
  const fake = new FakeEngine();
  fake.on(/ exec -T gateway node \/app\/gateway\/team\/cli\.js add /, { stdout: 'cctl_member_tok\n' });
  const writes: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await withEngine(fake, () =>
      main(['gateway', 'member', 'add', 'alice', '--daily-tokens', '5000', '--max-in-flight', '3', '--dir', dir, '--json']),
    );
  } finally {
    process.stdout.write = write;
  }
  t.is(code, 0);
  const exec = fake.calls.find((c) => c.line.includes(' exec '))!;
  t.deepEqual(exec.argv.slice(-10), [
    '-T',
    'gateway',
    'node',
    '/app/gateway/team/cli.js',
    'add',
    'alice',
    '--daily-tokens',
    '5000',
    '--max-in-flight',
    '3',
  ]);
  t.true(exec.argv.includes(join(dir, 'compose.yaml')), exec.line);
  t.deepEqual(JSON.parse(writes.join('')), { ok: true, member: 'alice', token: 'cctl_member_tok' });
});

test.serial('gateway verbs outside a gateway folder say how to make one', async (t) => {
  const fake = new FakeEngine();
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await withEngine(fake, () => main(['gateway', 'status', '--dir', temp()]));
  } finally {
    process.stderr.write = write;
  }
  t.is(code, 1);
  t.regex(stderr.join(''), /is not a team gateway folder[\s\S]*cctl gateway init/);
  t.is(fake.calls.length, 0, 'nothing ran');
});

/** main(argv) with stdout and stderr captured. */
async function run(fake: FakeEngine, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((chunk: string) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((err += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await withEngine(fake, () => main(argv)), out, err };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
  }
}

test.serial('gateway down keeps the ledger; --volumes needs --yes in a script, then deletes <project>_ledger and says so', async (t) => {
  const dir = temp();
  writeGatewayFolder(dir, SETUP, {}, {});
  const volume = `${gatewayProject(dir).name}_ledger`;
  const fake = new FakeEngine().withContainers([{ service: 'gateway' }]);
  const kept = await run(fake, ['gateway', 'down', '--dir', dir]);
  t.is(kept.code, 0);
  t.is(kept.out, `Stopped the team gateway. The ledger volume ${volume} is kept.\n`);
  t.deepEqual(fake.lines('docker volume'), []);
  const refused = await run(fake, ['gateway', 'down', '--volumes', '--dir', dir]);
  t.is(refused.code, 2);
  t.regex(refused.err, new RegExp(`--volumes deletes the ledger volume ${volume}.*add --yes`));
  t.is(fake.lines('docker volume').length + fake.calls.filter((c) => c.line.includes(' down ')).length, 1, 'only the first down ran');
  const deleted = await run(fake, ['gateway', 'down', '--volumes', '--yes', '--dir', dir, '--json']);
  t.is(deleted.code, 0);
  t.deepEqual(fake.lines('docker volume'), [`docker volume rm ${volume}`]);
  t.deepEqual(JSON.parse(deleted.out), { ok: true, stopped: ['gateway'], removed: [volume] });
  fake.on('docker volume rm', { exitCode: 1, stderr: `Error response from daemon: get ${volume}: no such volume` });
  const none = await run(fake, ['gateway', 'down', '--volumes', '-y', '--dir', dir]);
  t.is(none.out, `Stopped the team gateway. There was no ledger volume ${volume} to delete.\n`);
  // With no container to stop, down says so instead of reporting a stop that did not happen.
  const idle = await run(new FakeEngine(), ['gateway', 'down', '--dir', dir, '--json']);
  t.deepEqual(JSON.parse(idle.out), { ok: true, stopped: [], removed: [] });
  const again = await run(new FakeEngine(), ['gateway', 'down', '--volumes', '--yes', '--dir', dir]);
  t.is(again.out, `No gateway container was running. Deleted ${volume}.\n`);
});

test.serial("gateway backup reads the ledger volume with the gateway's own image, and names cctl gateway in its hints", async (t) => {
  const dir = temp();
  writeGatewayFolder(dir, SETUP, {}, {});
  const volume = `${gatewayProject(dir).name}_ledger`;
  const fake = new FakeEngine();
  const missing = await run(fake, ['gateway', 'backup', '--dir', dir]);
  t.is(missing.code, 1);
  t.deepEqual(fake.lines('docker volume'), [`docker volume inspect ${volume}`]);
  t.regex(missing.err, new RegExp(`There is no volume ${volume} to back up\\.\\n"cctl gateway up" creates it\\.`));
  t.is(mode(join(dir, 'backups')), 0o700);
  fake.on(`docker volume inspect ${volume}`, { stdout: '[{}]\n' });
  const noImage = await run(fake, ['gateway', 'backup', join(dir, 'l.tar.gz'), '--dir', dir]);
  t.is(noImage.code, 1);
  t.true(
    fake.lines('docker image inspect').some((l) => l.includes(SETUP.image)),
    fake.lines('docker image').join('\n'),
  );
  const noFile = await run(fake, ['gateway', 'restore', '--dir', dir]);
  t.is(noFile.code, 2);
});
