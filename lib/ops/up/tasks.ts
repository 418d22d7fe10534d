/**
 * The steps of `cctl up` as listr2 task data: the engine check, the compose
 * file (init, guarded), the images, the start and the health wait. The full
 * path runs them all; the short path when only containers are due runs the
 * start and the wait (startTasks).
 */
import type { ListrTask } from 'listr2';
import { buildImages, imageStaleness, type Staleness } from '../build.js';
import type { ComposeCommand } from '../../engine/compose.js';
import { stop as composeStop, up as composeUp } from '../../engine/compose-client.js';
import { explainDockerError } from '../../engine/docker.js';
import type { DaemonInfo } from '../../engine/daemon.js';
import { ProcessError } from '../../engine/runner.js';
import { CctlError, InterruptedError } from '../../kernel/errors.js';
import { tail } from '../../kernel/text.js';
// The full path's modules (the YAML parser among them) load only when that path runs.
import type { InitPlan, InitResult } from '../init.js';
import { CLI_SERVICE, type Project } from '../../project/locate.js';
import type { Settings } from '../../project/settings.js';
import { projectInvocation } from '../compose.js';
import { claudeServices, engineCheckTask, progressLine, waitHealthy, type ServiceState } from '../stack.js';
import type { MachineFile } from '../machine-file.js';
import type { UpRecord } from '../../project/up-record.js';
import { fingerprintBeforeStart, recordedHashes, startChecked, type CheckedInputs, type UpInputs } from './record.js';

export interface UpContext {
  project: Project;
  daemon?: DaemonInfo;
  engine?: ComposeCommand;
  init?: InitResult;
  /** What the services start with: init's settings, or on the short path the record's. */
  settings?: Settings;
  /** Which way this up went: everything, only the start, or nothing at all (short-path.ts). */
  path?: 'full' | 'start' | 'current';
  /** This machine's compose file (init's, or the short path's), with the environment of the compose calls. */
  machine?: MachineFile;
  images?: Staleness[];
  built: string[];
  /** The short path's record: its fingerprint must still hold when the start begins (record.ts). */
  record?: UpRecord;
  /** What Compose reads and the fingerprint of it, taken just before `compose up` (record.ts recordUp). */
  inputs?: UpInputs;
  fingerprint?: string;
  /** The full path: the project's inputs init never writes, hashed before the trust check read them. */
  checked?: CheckedInputs;
  services?: ServiceState[];
}

export interface UpOptions {
  build: boolean;
  /** Show changing progress lines (a live terminal); plain output keeps only task results. */
  live: boolean;
  timeoutMs: number;
  signal: AbortSignal;
  /** Changes the trust check found were accepted (--accept-changes, or at the prompt). */
  acceptChanges?: boolean;
  /** init's plan, made (and its changes asked about) before the task list drew; without it the task makes one. */
  plan?: Promise<InitPlan>;
}

/** A busy host port gets its own message, naming the port. */
function explainUpFailure(error: unknown): unknown {
  const explained = explainDockerError(error);
  if (explained !== error || !(error instanceof ProcessError)) return explained;
  const text = error.stderr + error.stdout;
  const port = /(?:Bind for [^:]*:(\d+) failed: port is already allocated|listen tcp[^:]*:(\d+): bind: address already in use)/.exec(text);
  if (port) {
    const n = port[1] ?? port[2];
    return new CctlError(`Port ${n} on this machine is already in use, so the proxy cannot publish it.`, {
      hint: `Stop what listens on ${n} ("ss -ltnp | grep ${n}"), or choose another: cctl init --set publish-port=3001`,
    });
  }
  return new CctlError(`Starting the services failed: ${tail(text)}`, {
    hint: 'Run "cctl doctor", and "cctl logs" for the service output.',
    cause: error,
  });
}

export function upTasks(options: UpOptions): ListrTask<UpContext>[] {
  return [
    engineCheckTask<UpContext>(),
    {
      title: 'Check the compose file',
      task: async (ctx, task) => {
        const [{ hasClaudeServices }, { applyInit, planInit, wroteTeamFiles }] = await Promise.all([
          import('../../project/compose-file.js'),
          import('../init.js'),
        ]);
        const first = !hasClaudeServices(ctx.project);
        if (first) task.title = 'No claude services yet: running cctl init';
        const plan = await (options.plan ?? planInit(ctx.project, { acceptChanges: options.acceptChanges, strictAgent: true }));
        ctx.init = await applyInit(plan, options.acceptChanges === true);
        ctx.machine = ctx.init.machine;
        ctx.settings = ctx.init.settings;
        const title = first
          ? `Added the claude profile to ${ctx.init.file}`
          : ctx.init.changed
            ? `Updated ${ctx.init.touched.join(', ')}`
            : 'Compose file is current';
        task.title = `${title}${wroteTeamFiles(ctx.init)}`;
      },
    },
    {
      title: 'Build images',
      task: async (ctx, task) => {
        ctx.images = await imageStaleness(ctx.project, ctx.init!.settings, ctx.init!.hashes);
        const due = ctx.images.filter((i) => options.build || i.reason !== 'current').map((i) => i.service);
        if (due.length === 0) {
          task.title = 'Images are current';
          return;
        }
        const why = ctx.images.map((i) => `${i.service}: ${options.build ? 'forced' : i.reason}`).join(', ');
        task.title = `Building ${due.join(', ')} (${why})`;
        const init = ctx.init!;
        await buildImages(ctx.project, due, {
          onLine: options.live ? (line) => (task.output = line) : undefined,
          checked: { model: init.buildModel, settings: init.settings, hashes: init.hashes },
        });
        ctx.built = due;
        task.title = `Built ${due.join(', ')}`;
      },
    },
    ...startTasks(options),
  ];
}

/** Start and wait: the end of the full path, and all of the short path when only containers are due. */
export function startTasks(options: UpOptions): ListrTask<UpContext>[] {
  return [
    {
      title: 'Start the claude profile',
      task: async (ctx) => {
        if (ctx.init) (await import('../guard.js')).assertFileUnchanged(ctx.project, ctx.init.fileDigest);
        // Docker follows links in bind sources: the protected paths must still be the folders and files they were,
        // and a running claude-cli without a mount over one of them must not be left running to swap it after the check.
        const { assertBindsInPlace, stopIfBindsExposed } = await import('../protected.js');
        const binds = ctx.machine!.facts.binds;
        const stopCli = async () =>
          composeStop(await projectInvocation(ctx.project, ctx.machine!.env), { services: [CLI_SERVICE], timeoutSeconds: 10 });
        await stopIfBindsExposed(ctx.project, binds, stopCli);
        assertBindsInPlace(binds);
        // What Compose is about to read, as the trust check (or the last up's record) accepted it.
        Object.assign(ctx, await fingerprintBeforeStart(ctx.project, ctx.settings!, ctx.record, ctx.machine!, ctx.checked));
        const services = claudeServices(ctx.settings!);
        // What Compose creates must carry the config hashes of what was checked before anything starts: the
        // trust check's model on the full path, the record's labels on the short path. A file swapped after
        // the check read it (claude-cli runs all the while, and sees each read in the file's atime) makes
        // other containers, which are removed, never started (record.ts startChecked). The start is then by
        // container, with no file read again.
        // Compose v1 connects a container's other networks only when it starts the container itself, and puts
        // the image's ID in the config hash, so on v1 the start stays Compose's (the race stays open there),
        // as it does for a model Compose 2.26 prints only as YAML (no hash to compare; docs/GUIDE.md).
        const expected = ctx.engine?.flavour === 'v1' ? undefined : ctx.init ? ctx.init.configHashes : recordedHashes(ctx.record);
        try {
          await composeUp(
            await projectInvocation(ctx.project, ctx.machine!.env),
            { services, noStart: expected !== undefined },
            { signal: options.signal },
          );
          if (expected) await startChecked(ctx.project, expected, services);
        } catch (error) {
          if (error instanceof CctlError) throw error;
          if (options.signal.aborted) throw new InterruptedError();
          throw explainUpFailure(error);
        }
      },
    },
    {
      title: 'Wait until the services are healthy',
      task: async (ctx, task) => {
        const services = claudeServices(ctx.settings!);
        ctx.services = await waitHealthy(ctx.project, services, {
          timeoutMs: options.timeoutMs,
          signal: options.signal,
          onProgress: (states) => {
            const line = progressLine(states);
            if (options.live && task.output !== line) task.output = line;
          },
        });
        task.title = `Healthy: ${services.join(', ')}`;
      },
    },
  ];
}
