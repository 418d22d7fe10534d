/**
 * Hostile workspace: a race from inside claude-cli against `up`'s image build (issue 19). `up` checks the
 * project and hashes claude-cli's build inputs (ops/init.ts, ops/build.ts imageHashes), and later Compose
 * builds the image, reading the build context again. The attacker counts the host's reads of a file of that
 * context (each shows in its atime: it sets the atime back to 0 after each) and, after every read that finds
 * the file without its mark, appends the mark: so the file is the attacker's from the check's read on (init
 * compares .cctl/docker with cctl's files and rewrites what differs; its new file counts as a read too)
 * until the build reads it. Deterministic: whatever the number of reads, the last host read before the
 * build is followed by the swap.
 *
 * The build is the user's `cctl up --build` (a cctl update or a changed setting does the same): no edit of the
 * project's is needed, and nothing asks a question.
 *
 * Attack first, on main 6a56f80: the image claude-cli runs had the attacker's entrypoint.sh under the build
 * hash of the checked one, cctl up exit 0, no question (and a later up finds the image current). Now the build
 * reads a private copy of the checked inputs, so the swap changes nothing that is built.
 */
import { randomBytes } from 'node:crypto';
import { e2e } from '../../helpers/e2e.js';
import { Stack } from '../../helpers/hostile.js';
import { runSettled, type RunResult } from '../../../lib/engine/runner.js';

const MARK = `# swapped-in-by-the-attacker-${randomBytes(4).toString('hex')}`;
const TARGET = '/workspace/.cctl/docker/entrypoint.sh';

/** Runs detached in claude-cli: after each host read of the target (its atime), puts the mark back in. */
const WATCH = String.raw`
const fs = require('fs');
const f = TARGET, log = (m) => fs.appendFileSync('/workspace/.race-log', Date.now() + ' ' + m + '\n');
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const reset = () => fs.utimesSync(f, 0, fs.statSync(f).mtime);
const started = Date.now();
reset();
for (let n = 1; Date.now() - started < 300000 && !fs.existsSync('/workspace/.race-stop'); ) {
  let st;
  try { st = fs.statSync(f); } catch { sleep(1); continue; }
  if (st.atimeMs < 1e9) { sleep(1); continue; }
  log('host read ' + n);
  if (!fs.readFileSync(f, 'utf8').includes(MARK)) { fs.appendFileSync(f, MARK + '\n'); log('B in place'); }
  reset();
  n++;
}
`;

const stack = new Stack({ prefix: 'brace' });
e2e.before(() => stack.setUp());
e2e.after.always(() => stack.tearDown());

/** One full-path `cctl up --build`, the attacker swapping after each host read. */
async function buildRace(): Promise<{ up: RunResult; log: string; reads: number }> {
  await stack.restore();
  const code = `const TARGET = ${JSON.stringify(TARGET)}, MARK = ${JSON.stringify(MARK)};\n${WATCH}`;
  const spawn = `require('child_process').spawn('node', ['-e', process.argv[1]], { detached: true, stdio: 'ignore' }).unref()`;
  const started = await stack.cctl(['exec', '--', 'node', '-e', spawn, code]);
  if (started.exitCode !== 0) throw new Error(`the attacker did not start: ${started.stderr}`);
  await new Promise((r) => setTimeout(r, 1500));
  const up = await stack.cctl(['up', '--build', '--timeout', '300']);
  await stack.asUser(['touch', '.race-stop']);
  const log = (await stack.asUser(['cat', '.race-log'])).stdout;
  return { up, log, reads: (log.match(/host read/g) ?? []).length };
}

/** What the image claude-cli runs holds at /usr/local/bin/entrypoint.sh, read from the image itself. */
async function entrypointInImage(): Promise<{ image: string; text: string; label: string }> {
  // By Compose's labels: v1 names the container with underscores, v2 with dashes.
  const labels = ['--filter', `label=com.docker.compose.project=${stack.name}`, '--filter', 'label=com.docker.compose.service=claude-cli'];
  const id = (await runSettled(['docker', 'ps', '-q', ...labels])).stdout.trim();
  const image = (await runSettled(['docker', 'inspect', '--format', '{{.Image}}', id])).stdout.trim();
  const text = (await runSettled(['docker', 'run', '--rm', '--entrypoint', 'cat', image, '/usr/local/bin/entrypoint.sh'])).stdout;
  const label = (await runSettled(['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "dev.cctl.build-hash"}}', image]))
    .stdout;
  return { image, text, label: label.trim() };
}

e2e.serial("a build input swapped after the check read it, before Compose's build reads it", async (t) => {
  const { up, log, reads } = await buildRace();
  t.log(`race: ${log.trim().replace(/\n/g, ' | ')}; cctl up exit ${up.exitCode}`);
  t.is(up.exitCode, 0, `up --build goes on without a question: ${up.stdout}${up.stderr}`);
  t.regex(up.stdout, /Built claude-cli/, 'up built claude-cli');
  t.true(reads >= 1, 'the host read the file (its atime shows it)');
  t.regex(log, /B in place/, 'the attacker swapped the file after the host read it');
  const built = await entrypointInImage();
  t.log(`claude-cli runs ${built.image.slice(0, 19)}, build hash ${built.label}`);
  t.true(built.text.length > 0, 'the image has an entrypoint.sh');
  t.false(built.text.includes(MARK), "the image claude-cli runs holds the checked entrypoint.sh, not the attacker's");
});
