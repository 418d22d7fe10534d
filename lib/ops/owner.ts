/**
 * Whose stack it is. On an engine several users share, two folders of the
 * same name are one Compose project: the second user's `up` would recreate
 * the first one's containers as its own, with its own UID, workspace and
 * secrets. cctl labels its containers with the host user that started them
 * (the per-machine file, project/machine-file.ts), and `up` and `doctor` say
 * plainly when the stack belongs to someone else instead of taking it over.
 * Containers without the label (plain Compose, an older cctl) are nobody's.
 */
import { projectContainers, type LabelledContainer } from '../engine/containers.js';
import { CctlError } from '../kernel/errors.js';
import type { Project } from '../project/locate.js';
import { OWNER_HOST_LABEL, OWNER_UID_LABEL, OWNER_USER_LABEL, type Owner } from '../project/machine-file.js';
import { hostOwner } from './machine-file.js';

export interface ForeignStack {
  owner: Owner;
  containers: string[];
}

/** The other user whose containers hold the project's name on this engine, if any. */
export async function foreignStack(project: Project, me: Owner = hostOwner()): Promise<ForeignStack | undefined> {
  return foreignAmong(await projectContainers(project.name, [OWNER_UID_LABEL, OWNER_USER_LABEL, OWNER_HOST_LABEL]), me);
}

/** The other user whose containers these are (the project's, with their labels), if any. */
export function foreignAmong(containers: readonly LabelledContainer[], me: Owner = hostOwner()): ForeignStack | undefined {
  const theirs = containers.filter((c) => {
    const uid = c.labels[OWNER_UID_LABEL];
    if (!uid) return false;
    return uid !== String(me.uid) || (c.labels[OWNER_HOST_LABEL] !== '' && c.labels[OWNER_HOST_LABEL] !== me.host);
  });
  const first = theirs[0];
  if (!first) return undefined;
  const owner = {
    uid: Number(first.labels[OWNER_UID_LABEL]),
    user: first.labels[OWNER_USER_LABEL] || '?',
    host: first.labels[OWNER_HOST_LABEL] || '?',
  };
  return { owner, containers: theirs.map((c) => c.name) };
}

export function describeOwner(o: Owner): string {
  return `${o.user} (UID ${o.uid} on ${o.host})`;
}

export function foreignStackError(project: Project, stack: ForeignStack, me: Owner = hostOwner()): CctlError {
  return new CctlError(
    `The stack "${project.name}" on this engine belongs to ${describeOwner(stack.owner)}: ${stack.containers.join(', ')}. ` +
      'cctl up would recreate those containers as yours, so nothing was built or started.',
    {
      hint:
        `Give your project its own name: COMPOSE_PROJECT_NAME=${project.name}-${me.user.replace(/[^a-z0-9_-]/gi, '').toLowerCase() || me.uid} cctl up ` +
        `(or cctl -p NAME up, or a top-level name: in the compose file). Or ask ${stack.owner.user} to run "cctl down" there first.`,
    },
  );
}

/**
 * Refuses when the project's name is another user's stack on this engine. `known`: the project's containers
 * with their labels, when a caller has them already (up's short path: its snapshot), which saves a `docker ps`.
 */
export async function assertOwnStack(project: Project, known?: readonly LabelledContainer[]): Promise<void> {
  const me = hostOwner();
  const stack = known ? foreignAmong(known, me) : await foreignStack(project, me);
  if (stack) throw foreignStackError(project, stack, me);
}
