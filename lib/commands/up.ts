/**
 * `cctl up`: the options, then the outcome printed (a services table and the
 * next steps, or JSON). What up does is ops/up/.
 */
import type { OptionsFor } from './declarations/verbs.js';
import { failureJson, InterruptedError, UsageError } from '../kernel/errors.js';
import { findProject } from '../project/locate.js';
import { proxyBaseUrl } from '../project/model.js';
import { formatNextSteps, nextSteps } from '../project/next-steps.js';
import { holdsMemberToken } from '../project/team-member.js';
import { isolatedLoginWarning } from '../project/isolation-warning.js';
import type { Settings } from '../project/settings.js';
import { servicesTable } from '../ui/table.js';
import { upProject, type UpOutcome } from '../ops/up/up.js';

function proxyUrls(s: Settings): { internal: string; host?: string } {
  return { internal: proxyBaseUrl(s), host: s.publish && s.proxy !== 'external' ? `http://127.0.0.1:${s['publish-port']}` : undefined };
}

export default async function up(_args: string[], options: OptionsFor<'up'>): Promise<number> {
  const timeout = Number(options.timeout ?? 120);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${options.timeout}".`);
  const json = options.json === true;
  const project = findProject(options);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  let outcome: UpOutcome;
  try {
    outcome = await upProject(project, {
      build: options.build === true,
      acceptChanges: options.acceptChanges === true,
      json,
      timeoutMs: timeout * 1000,
      signal: abort.signal,
    });
  } catch (error) {
    const failure = abort.signal.aborted ? new InterruptedError() : error;
    if (json) process.stdout.write(failureJson(failure));
    throw failure;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const { settings } = outcome;
  const urls = proxyUrls(settings);
  const warning = isolatedLoginWarning(settings);
  if (!json && outcome.path === 'current')
    process.stdout.write('✔ Nothing changed since the last cctl up: the services are healthy and current\n');
  for (const note of outcome.notes) process.stderr.write(`cctl: note: ${note}\n`);
  if (warning) process.stderr.write(`cctl: warning: ${warning}\n`);
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          ok: true,
          project: project.name,
          file: project.file,
          compose: outcome.engine,
          docker: outcome.daemon,
          path: outcome.path,
          composeFileChanged: outcome.composeFileChanged,
          built: outcome.built,
          services: outcome.services,
          proxyUrl: urls.internal,
          proxyHostUrl: urls.host,
          warnings: warning ? [warning] : [],
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  process.stdout.write(servicesTable(outcome.services));
  process.stdout.write(`\nClaude Code reaches the API at ${urls.internal}${urls.host ? ` (from this machine: ${urls.host})` : ''}.\n`);
  process.stdout.write(
    `Next:\n${formatNextSteps(nextSteps({ ...settings, teamGateway: settings.auth === 'team-key' && holdsMemberToken(project.name) }))}`,
  );
  return 0;
}
