/**
 * Claude can write every file in the project, compose.yaml and .env included. An edit made from inside
 * claude-cli that makes it privileged and re-points the upstream, adds a variable to the gateway, puts the
 * team's own service into claude-cli's network, or hides the same in a YAML merge key is refused by up
 * without --accept-changes (doctor's trust check names it), and claude-cli's HostConfig stays as it was;
 * a .env that sets the SSH socket variable an older cctl read changes nothing at all.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../helpers/e2e.js';
import { CLI } from '../helpers/cli.js';
import { teamKeyStack } from '../helpers/team-key-stack.js';
import { run } from '../../lib/engine/runner.js';

const stack = teamKeyStack('secedit');
const { tmp, file, privateDir, cctl, inCli, asUser, cliContainer, hostConfig } = stack;

e2e.before(() => stack.start());

e2e.serial('an edit from inside (privileged, another upstream) is refused by up without --accept-changes', async (t) => {
  const before = readFileSync(file, 'utf8');
  const edit = await inCli(
    "sed -i -e 's|^    cap_drop: \\[ALL\\]$|    cap_drop: [ALL]\\n    privileged: true|' -e 's|upstream: http://fake-upstream:8080|upstream: https://attacker.example|' /workspace/compose.yaml",
  );
  t.is(edit.exitCode, 0, edit.stderr);
  t.not(readFileSync(file, 'utf8'), before, 'claude-cli could edit the file (that is why the guard exists)');
  const r = await cctl('up');
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /\+ services\.claude-cli\.privileged: true/);
  t.regex(r.stderr, /~ x-cctl\.upstream: "http:\/\/fake-upstream:8080" -> "https:\/\/attacker\.example"/);
  t.regex(r.stderr, /--accept-changes/);
  const doctor = await cctl('doctor', '--json');
  const guard = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find(
    (c) => c.name === 'trust',
  );
  t.is(guard?.status, 'warn');
  t.regex(guard!.detail, /privileged/);
  const inspect = await run(['docker', 'inspect', '--format', '{{.HostConfig.Privileged}}', await cliContainer()]);
  t.is(inspect.stdout.trim(), 'false', 'the refused edit did not reach the running container');
  writeFileSync(file, before);
});

e2e.serial(
  "an edit from inside that adds a gateway variable or puts the user's service in claude-cli's network is refused by up",
  async (t) => {
    const before = readFileSync(file, 'utf8');
    const edit = await inCli(
      "sed -i -e 's|^      CCTL_AUTH_MODE: team-key$|&\\n      CCTL_EGRESS_SOURCES: 0.0.0.0/0|' -e 's|^  proxy:$|&\\n    network_mode: service:claude-cli|' /workspace/compose.yaml",
    );
    t.is(edit.exitCode, 0, edit.stderr);
    t.not(readFileSync(file, 'utf8'), before);
    const r = await cctl('up');
    t.is(r.exitCode, 1, r.stdout);
    t.regex(r.stderr, /\+ services\.cctl-proxy\.environment\.CCTL_EGRESS_SOURCES: "0\.0\.0\.0\/0"/);
    t.regex(r.stderr, /\+ services\.proxy: .*"network_mode":"service:claude-cli"/);
    writeFileSync(file, before);
  },
);

e2e.serial(
  'a merge key written from inside (<<: {privileged, pid: host}) is refused by up </dev/null; claude-cli stays as it was',
  async (t) => {
    const before = readFileSync(file, 'utf8');
    const config = await hostConfig();
    // YAML merge keys, which a deny-list of keys never sees.
    const edit = await inCli("sed -i 's|^  claude-cli:$|&\\n    <<: {privileged: true, pid: host}|' /workspace/compose.yaml");
    t.is(edit.exitCode, 0, edit.stderr);
    t.regex(readFileSync(file, 'utf8'), /<<: \{privileged: true, pid: host\}/);
    const r = await asUser(['bash', '-c', `node ${CLI} up </dev/null`]);
    t.is(r.exitCode, 1, r.stdout);
    t.regex(r.stderr, /\+ services\.claude-cli\.pid: "host"/);
    t.regex(r.stderr, /\+ services\.claude-cli\.privileged: true/);
    t.regex(r.stderr, /nothing was started/);
    t.is(await hostConfig(), config, 'HostConfig unchanged');
    writeFileSync(file, before);
  },
);

e2e.serial(
  'a .env written from inside that points the SSH socket variable an older cctl read at the team key changes nothing',
  async (t) => {
    const config = await hostConfig();
    const edit = await inCli(`printf 'CCTL_SSH_AUTH_SOCK=${join(privateDir, 'proxy.env')}\\n' > /workspace/.env`);
    t.is(edit.exitCode, 0, edit.stderr);
    // The socket is a literal in the per-machine file now: no file of cctl's reads the variable, so up goes on.
    const r = await asUser(['bash', '-c', `node ${CLI} up </dev/null`]);
    t.is(r.exitCode, 0, r.stderr);
    t.is(await hostConfig(), config, 'HostConfig unchanged: no bind of proxy.env');
    const inspect = await run(['docker', 'inspect', '--format', '{{json .Mounts}}', await cliContainer()]);
    t.false(inspect.stdout.includes('proxy.env'));
    rmSync(join(tmp.dir, '.env'));
  },
);
