/**
 * Member administration inside the team gateway's container, on the same
 * ledger file the server uses (SQLite allows the second writer):
 *
 *   node /app/gateway/team/cli.js add NAME [--daily-tokens N] [--monthly-tokens N] [--daily-cost USD] [--monthly-cost USD] [--max-in-flight N]
 *   node /app/gateway/team/cli.js budget NAME [same flags; none removes every limit]
 *   node /app/gateway/team/cli.js revoke NAME
 *   node /app/gateway/team/cli.js list
 *   node /app/gateway/team/cli.js migrate --from sqlite
 *
 * `add` prints the token alone on stdout, the only time it is ever shown;
 * `list` prints JSON. `migrate` copies the SQLite file in the volume into the
 * Postgres ledger (migrate.ts) and prints its report as JSON. `cctl gateway
 * member ...` and `cctl gateway migrate` run these through compose exec.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LedgerBackend } from './backend.js';
import { budgetsOnAdd, checkMemberName, newMemberToken, tokenHash } from './members.js';
import { MigrationError, migrateLedger } from './migrate.js';
import { openBackend } from './open-backend.js';
import type { Budgets } from './store.js';

const FLAGS: Record<string, keyof Budgets> = {
  '--daily-tokens': 'dailyTokens',
  '--monthly-tokens': 'monthlyTokens',
  '--daily-cost': 'dailyCost',
  '--monthly-cost': 'monthlyCost',
  '--max-in-flight': 'maxInFlight',
};

export function parseBudgets(args: string[]): Budgets {
  const budgets: Budgets = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split('=', 2) as [string, string | undefined];
    const key = FLAGS[flag];
    if (!key) throw new Error(`Unknown option "${flag}"; budgets are ${Object.keys(FLAGS).join(', ')}.`);
    const text = inline ?? args[++i];
    const value = Number(text);
    if (key === 'maxInFlight') {
      if (text === undefined || !Number.isInteger(value) || value < 1)
        throw new Error(`${flag} needs a whole number of at least 1, got "${text ?? ''}".`);
      budgets[key] = value;
      continue;
    }
    if (text === undefined || !Number.isFinite(value) || value < 0)
      throw new Error(`${flag} needs a number of at least 0, got "${text ?? ''}".`);
    budgets[key] = key.endsWith('Tokens') ? Math.floor(value) : value;
  }
  return budgets;
}

/**
 * Runs one command on the ledger the gateway uses (`ledgerUrl`, CCTL_LEDGER_URL:
 * Postgres; else the SQLite file in dataDir); returns the exit code. Output
 * goes through `out`, errors through `err`.
 */
export async function runMemberCommand(
  argv: string[],
  dataDir: string,
  out: (s: string) => void,
  err: (s: string) => void,
  ledgerUrl?: string,
): Promise<number> {
  const [verb, name, ...rest] = argv;
  const usage = 'usage: cli.js add|budget|revoke NAME [budget flags] | list | migrate --from sqlite';
  if (verb === 'migrate') return migrate(argv.slice(1), dataDir, out, err, ledgerUrl);
  if (verb !== 'list' && (!verb || !name || !['add', 'budget', 'revoke'].includes(verb))) {
    err(`${usage}\n`);
    return 2;
  }
  let store: LedgerBackend | undefined;
  try {
    store = await openBackend(ledgerUrl || join(dataDir, 'ledger.db'));
    if (verb === 'list') {
      out(`${JSON.stringify({ members: await store.members() })}\n`);
    } else if (verb === 'add') {
      const budgets = parseBudgets(rest);
      const token = newMemberToken();
      // A revoked member added again keeps their budgets, except those given now (members.ts).
      await store.addMember(checkMemberName(name!), tokenHash(token), budgetsOnAdd(await store.members(), name!, budgets));
      out(`${token}\n`);
    } else if (verb === 'budget') {
      if (!(await store.setBudgets(checkMemberName(name!), parseBudgets(rest)))) throw new Error(`No member named "${name}".`);
    } else if (!(await store.revokeMember(checkMemberName(name!)))) {
      throw new Error(`No active member named "${name}" (see "cctl gateway member list").`);
    }
    return 0;
  } catch (error) {
    err(`${(error as Error).message}\n`);
    return 1;
  } finally {
    await store?.close();
  }
}

/** `migrate --from sqlite`: the volume's ledger.db into the Postgres ledger; exit 1 unless the copy checks out. */
async function migrate(
  args: string[],
  dataDir: string,
  out: (s: string) => void,
  err: (s: string) => void,
  ledgerUrl?: string,
): Promise<number> {
  if (args.join(' ') !== '--from sqlite') {
    err('usage: cli.js migrate --from sqlite\n');
    return 2;
  }
  const file = join(dataDir, 'ledger.db');
  if (!ledgerUrl) {
    err(
      'This gateway keeps its ledger in SQLite: there is nothing to migrate to. Point it at Postgres first ("cctl gateway init --ledger postgres", then "cctl gateway up").\n',
    );
    return 1;
  }
  if (!existsSync(file)) {
    err(`There is no SQLite ledger to copy: ${file} does not exist in the gateway's volume.\n`);
    return 1;
  }
  let source: LedgerBackend | undefined;
  let target: LedgerBackend | undefined;
  try {
    source = await openBackend(file);
    target = await openBackend(ledgerUrl);
    const report = await migrateLedger(source, target, { progress: (copied, of) => err(`copied ${copied} of ${of} request rows\n`) });
    out(`${JSON.stringify(report)}\n`);
    if (!report.ok) err(`The copy differs from the source: ${report.differences.join('; ')}\n`);
    return report.ok ? 0 : 1;
  } catch (error) {
    err(`${error instanceof MigrationError ? '' : 'migrate failed: '}${(error as Error).message}\n`);
    return 1;
  } finally {
    await source?.close();
    await target?.close();
  }
}

/** CCTL_LEDGER_URL, or the file CCTL_LEDGER_URL_FILE names (the gateway's own secret). */
function ledgerUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.CCTL_LEDGER_URL_FILE?.trim();
  return env.CCTL_LEDGER_URL?.trim() || (file ? readFileSync(file, 'utf8').trim() : undefined);
}

function isEntryPoint(): boolean {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  void runMemberCommand(
    process.argv.slice(2),
    process.env.CCTL_DATA_DIR?.trim() || '/data',
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
    ledgerUrlOf(process.env),
  ).then((code) => (process.exitCode = code));
}
