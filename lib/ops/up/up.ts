/**
 * `cctl up` as a use case: the short path when the last up's record still
 * holds (short-path.ts), else the task list (tasks.ts), then the record of
 * this up (record.ts). commands/up.ts parses the options and prints the
 * outcome; everything between is here.
 */
import type { ListrTask } from 'listr2';
import { checkedEngine, compose, type ComposeCommand } from '../../engine/compose.js';
import { daemonInfo, type DaemonInfo } from '../../engine/daemon.js';
import type { Project } from '../../project/locate.js';
import type { Settings } from '../../project/settings.js';
import type { ServiceState } from '../stack.js';
import { assertOwnStack } from '../owner.js';
import { acceptedStates, pathChanges, refusePathChanges, writeAccepted } from '../protected.js';
import { acceptDevcontainer, pendingDevcontainerChanges, refuseDevcontainerChanges } from '../devcontainer.js';
import { inputsBeforeCheck, recordUp } from './record.js';
import { shortPath } from './short-path.js';
import { startTasks, upTasks, type UpContext } from './tasks.js';

export interface UpRequest {
  /** --build: build the images whatever their state (and so never the short path). */
  build: boolean;
  /** --accept-changes: changes the trust check finds are accepted without asking. */
  acceptChanges: boolean;
  /** JSON on stdout: the task list stays silent. */
  json: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface UpOutcome {
  /** Which way this up went: everything, only the start, or nothing at all. */
  path: 'full' | 'start' | 'current';
  /** What the services run with: init's settings, or on the short path the record's. */
  settings: Settings;
  services: ServiceState[];
  engine: ComposeCommand;
  daemon?: DaemonInfo;
  composeFileChanged: boolean;
  built: string[];
  /** What the user should know that is not an error (which CA source won). */
  notes: string[];
}

export async function upProject(project: Project, request: UpRequest): Promise<UpOutcome> {
  const ctx: UpContext = { project, built: [] };
  // Nothing changed since the last up: no init, no build, and when the containers are current no compose call at all.
  const short = request.build ? undefined : await shortPath(project);
  // Asked now, answered once (memoized): every path but "current" needs the daemon's version. Not before the
  // short path: "current" never needs it, and its spawn would compete with the short path's own docker calls.
  if (short?.kind !== 'current') daemonInfo().catch(() => undefined);
  ctx.path = short?.kind ?? 'full';
  if (short) ctx.settings = short.record.settings;
  // Files the host runs without review that changed while claude-cli could write them (ops/protected.ts).
  const paths = pathChanges(project);
  if (paths.changes.length > 0 && !request.acceptChanges) {
    const { confirmOnTerminal } = await import('../../ui/prompt.js');
    if (!(await confirmOnTerminal(refusePathChanges(paths.changes).message, 'Did you make these changes, and accept them?')))
      throw refusePathChanges(paths.changes);
  }
  // The editor's devcontainer.json against the version accepted last (ops/devcontainer.ts): initializeCommand runs on the host.
  const editor = pendingDevcontainerChanges(project);
  if (editor.length > 0) {
    if (!request.acceptChanges) {
      const { confirmOnTerminal } = await import('../../ui/prompt.js');
      if (!(await confirmOnTerminal(refuseDevcontainerChanges(editor).message, 'Did you make these changes, and accept them?')))
        throw refuseDevcontainerChanges(editor);
    }
    acceptDevcontainer(project);
  }
  // Another user's stack of the same name stays theirs: said before anything is built or recreated (the short
  // path's snapshot has the containers' labels already).
  if (short?.kind !== 'current') await assertOwnStack(project, short?.containers);
  if (short?.kind === 'current') {
    ctx.services = short.services;
  } else {
    // listr2 and the full path's modules (the YAML parser among them) load only now.
    const { presentation, taskList } = await import('../../ui/tasks.js');
    const mode = presentation(request.json);
    const taskOptions = { build: request.build, live: mode === 'live', timeoutMs: request.timeoutMs, signal: request.signal };
    if (short?.kind === 'start') {
      const unchanged: ListrTask<UpContext> = {
        title: 'Compose file and images are unchanged since the last cctl up',
        // The engine may have changed under an unchanged project (Compose v1 cannot drive engine 25+).
        // Compose v2 drives every engine cctl supports: the daemon's answer is not waited for before the start
        // (it only fills the report); on v1 it is, and an engine 25+ is refused before anything starts.
        task: async (c) => {
          const engine = await compose();
          Object.assign(c, { engine, machine: short.machine, record: short.record });
          if (engine.flavour === 'v1') c.daemon = (await checkedEngine()).daemon;
        },
      };
      await taskList([unchanged, ...startTasks(taskOptions)], mode).run(ctx);
      ctx.daemon ??= await daemonInfo().catch(() => undefined);
      await recordUp(project, short.record, ctx.services ?? [], ctx);
    } else {
      const [{ planInit }, { describeTrustChanges }, { guardPrompt }] = await Promise.all([
        import('../init.js'),
        import('../trust-check.js'),
        import('../../ui/prompt.js'),
      ]);
      // The trust check runs before the task list draws (it owns the terminal after), so a change can be asked
      // about. A failure here is the task's to report, in its place in the list.
      // With no daemon the engine task fails first, with the daemon's own message: resolving the file before
      // it would cost seconds of Compose calls (on v1 each starts a Python interpreter) for nothing.
      const daemonError = await daemonInfo().then(
        () => undefined,
        (error: unknown) => error,
      );
      // .env and the files the compose file names, hashed before the trust check reads them: one edited after
      // it (while the prompt waits, while images build) is refused just before compose up (record.ts).
      ctx.checked = daemonError ? undefined : await inputsBeforeCheck(project);
      const plan = daemonError
        ? Promise.reject(daemonError)
        : planInit(project, { acceptChanges: request.acceptChanges, strictAgent: true });
      plan.catch(() => undefined);
      const changes = await plan.then(
        (p) => p.review.changes,
        () => [],
      );
      const prompt = request.acceptChanges || changes.length === 0 ? undefined : guardPrompt(project.file);
      const acceptChanges = request.acceptChanges || (prompt !== undefined && (await prompt(describeTrustChanges(changes))));
      await taskList(upTasks({ ...taskOptions, acceptChanges, plan }), mode).run(ctx);
      const images = Object.fromEntries((ctx.images ?? []).map((i) => [i.service, i.image]));
      const startInterval = ctx.machine?.facts.startInterval;
      await recordUp(
        project,
        {
          buildHash: ctx.init!.hashes.cli,
          gatewayBuildHash: ctx.init!.hashes.gateway,
          settings: ctx.init!.settings,
          images,
          startInterval,
        },
        ctx.services ?? [],
        ctx,
      );
    }
  }
  const machine = ctx.machine ?? short?.machine;
  if (machine) writeAccepted(project, acceptedStates(paths.states, machine.paths));
  return {
    path: ctx.path,
    settings: ctx.settings!,
    services: ctx.services ?? [],
    engine: ctx.engine ?? (await compose()),
    daemon: ctx.daemon,
    composeFileChanged: ctx.init?.changed ?? false,
    built: ctx.built,
    notes: ctx.init?.notes ?? [],
  };
}
