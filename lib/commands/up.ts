import type { ListrTask } from 'listr2';
import type { OptionsFor } from './spec/verbs.js';
import { buildImages, imageStaleness, type Staleness } from '../ops/build.js';
import { checkedEngine, compose, type ComposeCommand } from '../engine/compose.js';
import { explainDockerError } from '../engine/docker.js';
import { daemonInfo, type DaemonInfo } from '../engine/daemon.js';
import { CctlError, failureJson, InterruptedError, UsageError } from '../kernel/errors.js';
import { tail } from '../kernel/text.js';
// The full path's modules (the YAML parser among them) and listr2 load only when that path runs: see up().
import type { InitResult } from '../ops/init.js';
import { findProject, type Project } from '../project/locate.js';
import { up as composeUp } from '../engine/compose-client.js';
import { projectInvocation } from '../ops/compose.js';
import { workbenchUpEnv } from '../ops/workbench.js';
import { ProcessError } from '../engine/runner.js';
import { claudeServices, engineCheckTask, progressLine, waitHealthy, type ServiceState } from '../ops/stack.js';
import { proxyBaseUrl } from '../project/model.js';
import { servicesTable } from '../ui/table.js';
import { formatNextSteps, nextSteps } from '../project/next-steps.js';
import { isolatedLoginWarning } from '../project/isolation-warning.js';
import { composeHashes, recordUp, shortPath } from '../ops/up-fast.js';
import type { Settings } from '../project/settings.js';

export interface UpContext {
  project: Project;
  daemon?: DaemonInfo;
  engine?: ComposeCommand;
  init?: InitResult;
  /** What the services start with: init's settings, or on the short path the record's. */
  settings?: Settings;
  /** Which way this up went: everything, only the start, or nothing at all (ops/up-fast.ts). */
  path?: 'full' | 'start' | 'current';
  /** The environment of the compose calls that create the containers (workbenchUpEnv), made once. */
  env?: NodeJS.ProcessEnv;
  /** Compose's config hashes, asked while the health wait runs, for the record of this up. */
  hashes?: Promise<Map<string, string>>;
  images?: Staleness[];
  built: string[];
  services?: ServiceState[];
}

export interface UpOptions {
  build: boolean;
  /** Show changing progress lines (a live terminal); plain output keeps only task results. */
  live: boolean;
  timeoutMs: number;
  signal: AbortSignal;
  /** Guarded changes in the compose file were accepted (--accept-changes, or at the prompt). */
  acceptChanges?: boolean;
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
        const [{ hasClaudeServices }, { initProject, wroteTeamFiles }] = await Promise.all([import('../project/compose-file.js'), import('../ops/init.js')]);
        const first = !hasClaudeServices(ctx.project);
        if (first) task.title = 'No claude services yet: running cctl init';
        ctx.init = await initProject(ctx.project, { acceptChanges: options.acceptChanges });
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
        ctx.images = await imageStaleness(ctx.project, ctx.init!.settings, ctx.init!.buildHash);
        const due = ctx.images.filter((i) => options.build || i.reason !== 'current').map((i) => i.service);
        if (due.length === 0) {
          task.title = 'Images are current';
          return;
        }
        const why = ctx.images.map((i) => `${i.service}: ${options.build ? 'forced' : i.reason}`).join(', ');
        task.title = `Building ${due.join(', ')} (${why})`;
        await buildImages(ctx.project, due, { onLine: options.live ? (line) => (task.output = line) : undefined });
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
        if (ctx.init) (await import('../ops/guard.js')).assertFileUnchanged(ctx.project, ctx.init.fileDigest);
        const services = claudeServices(ctx.settings!);
        try {
          // The identity and agent socket go into the environment of this call only: it is what creates claude-cli.
          ctx.env ??= await workbenchUpEnv(ctx.settings!, ctx.project.dir);
          await composeUp(await projectInvocation(ctx.project, ctx.env), { services }, { signal: options.signal });
        } catch (error) {
          if (options.signal.aborted) throw new InterruptedError();
          throw explainUpFailure(error);
        }
      },
    },
    {
      title: 'Wait until the services are healthy',
      task: async (ctx, task) => {
        const services = claudeServices(ctx.settings!);
        ctx.hashes = composeHashes(ctx.project, ctx.env ?? (await workbenchUpEnv(ctx.settings!, ctx.project.dir)));
        ctx.hashes.catch(() => undefined);
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
  const ctx: UpContext = { project, built: [] };
  try {
    // Asked now, answered once (memoized): every path but "current" needs the daemon's version, and the
    // question overlaps the short path's own docker calls instead of following them.
    daemonInfo().catch(() => undefined);
    // Nothing changed since the last up: no init, no build, and when the containers are current no compose call at all.
    const short = options.build === true ? undefined : await shortPath(project);
    ctx.path = short?.kind ?? 'full';
    if (short) ctx.settings = short.record.settings;
    if (short?.kind === 'current') {
      ctx.services = short.services;
      if (!json) process.stdout.write('✔ Nothing changed since the last cctl up: the services are healthy and current\n');
    } else {
      const { presentation, taskList } = await import('../ui/tasks.js');
      const mode = presentation(json);
      const taskOptions = { build: options.build === true, live: mode === 'live', timeoutMs: timeout * 1000, signal: abort.signal };
      if (short?.kind === 'start') {
        const unchanged: ListrTask<UpContext> = {
          title: 'Compose file and images are unchanged since the last cctl up',
          // The engine may have changed under an unchanged project (Compose v1 cannot drive engine 25+).
          task: async (c) => {
            // The start's environment (git identity, agent socket) is made alongside.
            const [{ daemon, engine }, env] = await Promise.all([checkedEngine(), workbenchUpEnv(c.settings!, c.project.dir)]);
            Object.assign(c, { daemon, engine, env });
          },
        };
        await taskList([unchanged, ...startTasks(taskOptions)], mode).run(ctx);
        await recordUp(project, short.record, ctx.hashes!, ctx.services ?? []);
      } else {
        const [{ changesInFile }, { describeChanges }, { guardPrompt }] = await Promise.all([
          import('../ops/guard.js'),
          import('../project/guard.js'),
          import('../ui/prompt.js'),
        ]);
        // Guarded edits are asked about before the task list draws (it owns the terminal after).
        const prompt = options.acceptChanges === true ? undefined : guardPrompt(project.file);
        const changes = prompt ? changesInFile(project) : [];
        const acceptChanges = options.acceptChanges === true || (changes.length > 0 && (await prompt!(describeChanges(changes))));
        await taskList(upTasks({ ...taskOptions, acceptChanges }), mode).run(ctx);
        const images = Object.fromEntries((ctx.images ?? []).map((i) => [i.service, i.image]));
        await recordUp(project, { buildHash: ctx.init!.buildHash, settings: ctx.init!.settings, images }, ctx.hashes!, ctx.services ?? []);
      }
    }
  } catch (error) {
    const failure = abort.signal.aborted ? new InterruptedError() : error;
    if (json) process.stdout.write(failureJson(failure));
    throw failure;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const settings = ctx.settings!;
  const urls = proxyUrls(settings);
  const warning = isolatedLoginWarning(settings);
  if (warning) process.stderr.write(`cctl: warning: ${warning}\n`);
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          ok: true,
          project: project.name,
          file: project.file,
          compose: ctx.engine ?? (await compose()),
          docker: ctx.daemon,
          path: ctx.path,
          composeFileChanged: ctx.init?.changed ?? false,
          built: ctx.built,
          services: ctx.services,
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
  process.stdout.write(servicesTable(ctx.services ?? []));
  process.stdout.write(`\nClaude Code reaches the API at ${urls.internal}${urls.host ? ` (from this machine: ${urls.host})` : ''}.\n`);
  process.stdout.write(`Next:\n${formatNextSteps(nextSteps(settings))}`);
  return 0;
}
