/**
 * `cctl update [--check] [--claude-only] [--claude-version V] [--ccusage-version V]`:
 * the newest Claude Code and ccusage the npm registry can install, and the
 * monitor's newest on PyPI (reported as unknown when PyPI is out of reach:
 * it is never pinned blind). Old against new; then the pins go into x-cctl
 * (through init, so the file stays cctl's) and claude-cli is rebuilt. A
 * version that does not exist is refused before anything is written or built.
 */
import type { OptionsFor } from './declarations/verbs.js';
import { CLI_SERVICE, locateProject } from '../project/locate.js';
import { storedSettings } from '../project/compose-file.js';
import type { Settings } from '../project/settings.js';
import { initProject } from '../ops/init.js';
import { buildImages } from '../ops/build.js';
import { assertBuildFilesAccepted } from '../ops/protected.js';
import {
  assertInstallable,
  ccusageTool,
  claudeTool,
  compareVersions,
  newestInstallable,
  newestMonitor,
  type Tool,
} from '../ops/registry.js';
import { formatTable } from '../ui/table.js';

type Pinned = 'claude-version' | 'ccusage-version' | 'monitor-version';

interface Row {
  setting: Pinned;
  tool: string;
  pinned: string;
  newest?: string;
  /** Why the newest is not known (the monitor, when PyPI cannot be reached). */
  unknown?: string;
}

async function wanted(tool: Tool, explicit: string | undefined): Promise<string> {
  if (explicit === undefined) return newestInstallable(tool);
  await assertInstallable(tool, explicit);
  return explicit;
}

export default async function update(_args: string[], options: OptionsFor<'update'>): Promise<number> {
  const project = locateProject(options);
  const s: Settings = storedSettings(project);
  const musl = /alpine/i.test(s['base-image']);
  const rows: Row[] = [
    {
      setting: 'claude-version',
      tool: 'Claude Code',
      pinned: s['claude-version'],
      newest: await wanted(claudeTool(musl), options.claudeVersion),
    },
  ];
  if (!options.claudeOnly) {
    rows.push({
      setting: 'ccusage-version',
      tool: 'ccusage',
      pinned: s['ccusage-version'],
      newest: await wanted(ccusageTool(), options.ccusageVersion),
    });
    if (s.monitor) {
      const monitor = await newestMonitor();
      rows.push({
        setting: 'monitor-version',
        tool: 'Usage Monitor',
        pinned: s['monitor-version'],
        newest: monitor.version,
        unknown: monitor.unknown,
      });
    }
  }
  const changes = rows.filter((r) => r.newest !== undefined && r.newest !== r.pinned);
  // A version older than the pin (--claude-version 2.1.300, or a pin newer than the registry serves) is a downgrade.
  const older = (r: Row) => r.newest !== undefined && compareVersions(r.newest, r.pinned) < 0;
  const status = (r: Row) => (r.unknown ? `unknown: ${r.unknown}` : r.newest === r.pinned ? 'current' : older(r) ? 'downgrade' : 'update');
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ project: project.name, check: options.check === true, tools: rows.map((r) => ({ ...r, status: status(r) })) }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      formatTable([['TOOL', 'PINNED', 'NEWEST', 'STATUS'], ...rows.map((r) => [r.tool, r.pinned, r.newest ?? '?', status(r)])]),
    );
  }
  // --check asks "is there something newer?": a downgrade is not an update.
  if (options.check) return changes.some((r) => !older(r)) ? 1 : 0;
  const say = (line: string) => void (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  if (changes.length === 0) {
    say('Nothing to update.');
    return 0;
  }
  const flags: Partial<Settings> = Object.fromEntries(changes.map((r) => [r.setting, r.newest!]));
  // The team's Dockerfile.local as the last accepted up left it (ops/protected.ts), before a build runs it.
  assertBuildFilesAccepted(project);
  const init = await initProject(project, { flags });
  say(
    `Pinned ${changes.map((r) => `${r.tool} ${r.newest}${older(r) ? ` (down from ${r.pinned})` : ''}`).join(', ')} in ${project.file} (x-cctl). Building ${CLI_SERVICE}...`,
  );
  await buildImages(project, [CLI_SERVICE], { checked: { model: init.buildModel, settings: init.settings, hashes: init.hashes } });
  say('Built. "cctl up" restarts claude-cli on the new image (the home volume is kept).');
  return 0;
}
