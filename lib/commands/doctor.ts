/**
 * cctl doctor: each check says pass, warn or fail, and what to do. The
 * checks are in ops/doctor/ (one module each, run in order by run.ts); this
 * verb prints them, as a table or JSON, and exits 1 when one failed.
 */
import type { OptionsFor } from './declarations/verbs.js';
import { findProject } from '../project/locate.js';
import { runChecks } from '../ops/doctor/run.js';

export default async function doctor(_args: string[], options: OptionsFor<'doctor'>): Promise<number> {
  const project = findProject(options);
  const checks = await runChecks(project);
  const failed = checks.filter((c) => c.status === 'fail');
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, project: project.name, checks }, null, 2)}\n`);
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      process.stdout.write(`${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}\n`);
      if (c.fix && c.status !== 'pass') process.stdout.write(`${' '.repeat(width + 8)}fix: ${c.fix}\n`);
    }
  }
  if (failed.length) {
    process.stderr.write(
      `cctl: ${failed.length} check(s) failed: ${failed.map((c) => `${c.name} (${c.detail.split('\n')[0]})`).join('; ')}\n`,
    );
    return 1;
  }
  return 0;
}
