/**
 * `cctl doctor`'s checks, in the order they run and print: the engine first,
 * then the project's file, its images and containers, then the machine.
 * A check that needs what an earlier one found (the daemon, the settings)
 * reads it from the context.
 */
import type { Project } from '../../project/locate.js';
import { backupsCheck } from './backups.js';
import { buildkitCheck } from './buildkit.js';
import { caCertCheck } from './ca-cert.js';
import type { Check, CheckResult, DoctorContext } from './check.js';
import { claudeCliCheck } from './claude-cli.js';
import { composeConfigCheck } from './compose-config.js';
import { composeFileCheck } from './compose-file.js';
import { composeCheck } from './compose.js';
import { daemonCheck } from './daemon.js';
import { devcontainerCheck } from './devcontainer.js';
import { diskCheck } from './disk.js';
import { imageCheck } from './image.js';
import { machineChecks } from './machine.js';
import { proxyCheck } from './proxy.js';
import { secretsCheck } from './secrets.js';
import { trustCheck } from './trust.js';
import { tzCheck } from './tz.js';
import { volumeCheck } from './volume.js';
import { workbenchCheck } from './workbench.js';

export type { CheckResult, CheckStatus } from './check.js';

const CHECKS: readonly Check[] = [
  daemonCheck,
  composeCheck,
  buildkitCheck,
  diskCheck,
  composeFileCheck,
  composeConfigCheck,
  imageCheck,
  volumeCheck,
  proxyCheck,
  claudeCliCheck,
  secretsCheck,
  trustCheck,
  devcontainerCheck,
  machineChecks,
  backupsCheck,
  caCertCheck,
  workbenchCheck,
  tzCheck,
];

export async function runChecks(project: Project, env = process.env): Promise<CheckResult[]> {
  const ctx: DoctorContext = { project, env, checks: [] };
  for (const check of CHECKS) ctx.checks.push(...(await check(ctx)));
  return ctx.checks;
}
