import type { OptionsFor } from './declarations/verbs.js';
import { initProject } from '../ops/init.js';
import { findProject } from '../project/locate.js';
import { relativeToProject } from '../project/assets.js';
import { privateDir } from '../project/private-dir.js';
import { join } from 'node:path';
import { fromFlags } from '../project/setting-layers.js';
import { proxyEnvFile, teamKeyMissing } from '../project/secrets.js';
import { guardPrompt } from '../ui/prompt.js';
import { isolatedLoginWarning } from '../project/isolation-warning.js';
import { egressSummary } from '../project/egress.js';
import { CctlError, UsageError } from '../kernel/errors.js';
import { checkMemberToken, teamGatewayUrl, writeMemberCredential } from '../project/team-member.js';
import { askSecret } from '../ui/secret-prompt.js';

export default async function init(_args: string[], options: OptionsFor<'init'>): Promise<number> {
  const project = findProject(options);
  if (options.insecureHttp && !options.teamGateway)
    throw new UsageError(
      '--insecure-http goes with --team-gateway URL.',
      'Example: cctl init --team-gateway http://gateway.lan:3000 --insecure-http',
    );
  const team = options.teamGateway ? await teamGateway(options.teamGateway, options.insecureHttp === true) : undefined;
  const result = await initProject(project, {
    flags: { ...fromFlags(options), ...(team ? { auth: 'team-key', upstream: team.url } : {}) },
    force: options.force === true,
    acceptChanges: options.acceptChanges === true,
    confirm: guardPrompt(project.file),
  });
  if (team) result.secrets.push(writeMemberCredential(project.name, team.token));
  for (const note of result.notes) process.stderr.write(`cctl: note: ${note}\n`);
  const warning = isolatedLoginWarning(result.settings);
  if (warning) process.stderr.write(`cctl: warning: ${warning}\n`);
  if (options.json) {
    // The machine file's path, not its facts: those hold the environment of the compose calls.
    const { machine, ...shown } = result;
    process.stdout.write(
      `${JSON.stringify({ ...shown, machineFile: machine.file, project: project.name, warnings: warning ? [warning] : [] }, null, 2)}\n`,
    );
    return 0;
  }
  const file = relativeToProject(process.cwd(), result.file);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (result.created) out(`Created ${file} with the claude profile (claude-cli, proxy, volume claude-home).`);
  else if (result.changed) out(`Updated ${file}: ${result.touched.join(', ')}`);
  else out(`${file} is up to date.`);
  if (result.backup) out(`Backup of the previous file: ${relativeToProject(process.cwd(), result.backup)}`);
  // The gateway's build folder in the private folder is about fifty files cctl keeps in step by itself:
  // one line for them, each one with --verbose. Files in the project are each named (they go into git).
  const build = privateDir(project.name);
  const own = (a: { path: string }) => a.path.startsWith(`${build}/`);
  for (const a of result.assets.filter((a) => options.verbose || !own(a))) out(`  ${a.change.padEnd(7)} ${a.path}`);
  const inPrivate = result.assets.filter(own);
  if (inPrivate.length && !options.verbose) {
    const counts = (['added', 'updated', 'removed'] as const)
      .map((c) => [c, inPrivate.filter((a) => a.change === c).length] as const)
      .filter(([, n]) => n);
    out(
      `  ${counts.map(([c, n]) => `${c} ${n}`).join(', ')} file(s) of the gateway's build folder in ${join(build, 'proxy')} (--verbose lists them)`,
    );
  }
  for (const s of result.secrets) out(`  wrote   ${relativeToProject(process.cwd(), s)}${s.endsWith('.env') ? ' (mode 0600)' : ''}`);
  for (const f of result.teamFiles) out(`  wrote   ${relativeToProject(process.cwd(), f)} (for the repository)`);
  for (const m of result.moved) out(`  moved   ${m} (secrets stay out of the project, where claude-cli cannot read them)`);
  if (team) out(`Team gateway: ${team.url}; your member token is in ${proxyEnvFile(project.name)}, which claude-cli cannot read.`);
  else if (result.settings.auth === 'team-key' && result.settings.proxy === 'builtin' && teamKeyMissing(project.name)) {
    out(`Team-key mode: put the team key in ${proxyEnvFile(project.name)} (ANTHROPIC_API_KEY=...) before "cctl up".`);
  }
  const egress = result.created || result.changed ? egressSummary(result.settings) : undefined;
  if (egress) out(egress);
  else if (options.allow !== undefined && !result.settings.isolate)
    out('The allow-list is stored; it takes effect with isolation ("cctl init --isolate").');
  if (result.created) out('Next: cctl up');
  return 0;
}

/** --team-gateway URL: the member token from CCTL_MEMBER_TOKEN, or asked without echo; never from argv. */
async function teamGateway(text: string, insecureHttp: boolean): Promise<{ url: string; token: string }> {
  const url = teamGatewayUrl(text, insecureHttp);
  const token = process.env.CCTL_MEMBER_TOKEN?.trim() || (await askSecret('Your member token (from your team admin): '));
  if (!token) {
    throw new CctlError('--team-gateway needs your member token.', {
      hint: 'Set CCTL_MEMBER_TOKEN, or run it on a terminal to be asked.',
      exitCode: 2,
    });
  }
  return { url, token: checkMemberToken(token) };
}
